// The query classifier: featurizer, softmax-regression training, ONNX export, onnxruntime-node serving.
// See docs/classifier.md.
export { FEATURE_VERSION, featureDim, featurize, rowText, toDense, type SparseVector } from './featurize.js';
export { marginals, outcomeIndex, outcomeLabels, predictJoint, type SoftmaxModel } from './model.js';
export { decodeOnnx, encodeOnnx, modelFromOnnx } from './onnx.js';
export { DEFAULT_CLASSIFIER_OPTIONS, trainClassifier, writeClassifier, type Manifest } from './pipeline.js';
export { OnnxQueryClassifier, type ClassifierOutput } from './runtime.js';
