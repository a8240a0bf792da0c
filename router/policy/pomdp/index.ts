// tiermix's N-tier POMDP routing policy. See docs/policy.md.
export { answerKey, type AnswerFormat } from './answer.js';
export { fitModel, extensionProbs, independentJoint, tiltJoint, marginal, binOf, type LabelledOutcome, type FitOptions, type PomdpModel } from './model.js';
export { Solver, rootNode, observe, bestReturn, type TierCosts, type SolverOptions, type PlanAction, type PlanResult, type Node } from './solver.js';
export { PomdpPolicy, type PomdpPolicyOptions, type PomdpExplanation } from './policy.js';
export { LambdaController, initialLambdaState, stepLambda, validateLambdaConfig, type LambdaControllerConfig, type LambdaControllerState } from './lambda.js';
export { TierCostEstimator, type CostEstimateConfig, type CostEstimateSnapshot, type CostSource, type CallPurpose } from './costs.js';
export { POMDP_FILE, POMDP_FORMAT, paramsFromModel, modelFromParams, readPomdpParams, writePomdpParams, type PomdpParams } from './params.js';
