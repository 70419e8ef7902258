export { WatermarkStrategy } from './watermark-strategy.js';
