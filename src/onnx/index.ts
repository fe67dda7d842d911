export * from './builder.js';
export { onnx } from './generated/onnx.js';
