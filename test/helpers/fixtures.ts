/** Fields every published test item shares. */
export const published = { status: 'published', validFrom: null, validTo: null, durationS: null } as const;

/** A published text item owned by `zoneId`. */
export const textItem = (id: string, body: string, zoneId = 'city') => ({ ...published, id, kind: 'text', zoneId, title: id, body, align: 'left' });
