/** The ZoneCast renderer library: the player draws screens with it and the composer previews with it. */
export { ZoneCastRenderer, type RendererName, type RendererOptions, type RendererState } from './engine.js';
export { FONT_FAMILY } from './font-family.js';
export type { RegionState } from '../state.js';
