/** Kept so existing imports work: amounts are not a chain concern, their home is src/units (new code imports it). */
export * from '../units/index.js'
