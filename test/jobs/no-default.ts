// A module that forgot `export default defineJob(...)`.
export const job = 42;
