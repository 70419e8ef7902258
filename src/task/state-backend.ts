/** Opens the keyed state backend a deployment asks for. */
import type { KeyedStateBackend } from '../state/api.js';
import { HeapKeyedStateBackend } from '../state/heap-backend.js';
import type { SubtaskDeployment } from './deployment.js';

export async function createStateBackend(d: SubtaskDeployment): Promise<KeyedStateBackend> {
  switch (d.options.stateBackend) {
    case 'hashmap':
      return new HeapKeyedStateBackend();
    case 'lsm':
      throw new Error('The LSM state backend is not wired yet');
  }
}
