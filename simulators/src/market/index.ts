export * from './types.js';
export { buildWorld, localIso, localDate, DEFAULT_MARKET_CONFIG, type MarketConfig, type World } from './world.js';
export { runMarket, type MarketRun } from './run.js';
export { marketPlanogram, marketStock, renderableDepths, type FixtureSnapshot } from './scene.js';
export { renderMarketCapture } from './render.js';
