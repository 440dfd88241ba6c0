/**
 * The names of the protocol: a policy or fragment name is 1-128 characters
 * of `[A-Za-z0-9_.:-]`; a region id is 1-64 characters of `[A-Za-z0-9_:.-]`
 * (no escaping needed anywhere: JSON, attributes, log lines).
 * @internal
 */
export const NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/

/**
 * Limits of a region request (docs/protocol.md, "Region request"), checked by
 * the one parser (`parseRegionRequest`) on the server and by the elements
 * before they send; `params` follow the one params rule (`parseParams`,
 * `PARAMS_LIMITS`). Plain constants rather than one object, so that the
 * elements bundle carries only what it uses.
 */
export const REGION_ID_PATTERN = /^[A-Za-z0-9_:.-]{1,64}$/
/** Longest `fragment`, `policy`, and claim type or value of a region request (and of any guard requirement). */
export const MAX_REGION_STRING = 256
/** Longest `redirect` and `returnTo` (and guard spec `redirect`). */
export const MAX_REGION_URL = 2048
/** Most pairs in a region's (or any guard's) `claims`. */
export const MAX_REGION_CLAIMS = 16

/**
 * Limits of the live socket (docs/protocol.md, "Live socket"): the server's
 * default `live.maxMessageBytes`, and the frame size the elements keep their
 * `mount` messages under (below that default, with room for the odd
 * multi-byte character). Plain numbers rather than one object, so that the
 * elements bundle carries only the one it uses.
 */
export const SOCKET_MAX_MESSAGE_BYTES = 64 * 1024
/** See {@link SOCKET_MAX_MESSAGE_BYTES}. */
export const SOCKET_CLIENT_FRAME_CHARS = 48 * 1024

/**
 * Longest access token accepted anywhere: in the socket's `auth` message and
 * by the local IdP's verifier (which also refuses to issue a longer one).
 */
export const MAX_TOKEN_LENGTH = 8192
