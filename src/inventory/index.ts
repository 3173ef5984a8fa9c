export type { ConnectionSpec, InventoryHost } from "./host.js";
export { loadInventory, parseInventory, type Inventory, type LoadOptions } from "./inventory.js";
export { matchHostPattern, selectHosts, unmatchedMessage, type PatternMatch } from "./pattern.js";
export { renderTemplate, TemplateError, type Vars } from "./template.js";
