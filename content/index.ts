/** ZoneCast's shared domain: everything the server, the player and the composer must agree on. */
export * from './common.js';
export * from './content-item.js';
export * from './errors.js';
export * from './layout.js';
export * from './legibility.js';
export * from './manifest.js';
export * from './media.js';
export * from './playlist.js';
export * from './realtime.js';
export * from './rules.js';
export * from './schedule.js';
export * from './screen.js';
export * from './time.js';
export * from './zone.js';
export * from './text-layout.js';
