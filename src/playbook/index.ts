export { describePlay, loadPlaybook, parsePlaybook, type Play, type Playbook } from "./playbook.js";
export { resolveDesired, type DesiredStates } from "./resolve.js";
