// Lengths the server refuses past, held here so that a field stops there instead of sending
// what will be refused (tests/studio/test_shared_constants.py holds them to the server's).

/** A spec name's most characters (spec/types.py MAX_NAME: a DNS label). */
export const MAX_NAME = 63;

/** A pattern search's most characters (studio/routes/catalog.py MAX_QUERY). */
export const MAX_QUERY = 200;
