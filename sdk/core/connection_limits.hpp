#pragma once
// Bounds on how long a call, a stream, a database session and an idle connection may hold
// the server's resources (docs/limits.md, "Connections, deadlines and uploads"). Server-side
// values are defaults of weft-server flags; the keepalive pair is shared by the server and the
// SDK's channel so that clients are never sent away with GOAWAY too_many_pings.
#include <cstddef>
#include <cstdint>

namespace weft::core::limits {

// gRPC calls. A unary call (long polls included: they wait at most 60 s) is cancelled after
// kRpcTimeoutSeconds; a stream after kTransferTimeoutSeconds overall, or when no message
// moved in either direction for kStreamIdleTimeoutSeconds.
inline constexpr double kRpcTimeoutSeconds = 120;
inline constexpr double kStreamIdleTimeoutSeconds = 30;
inline constexpr double kTransferTimeoutSeconds = 15 * 60;
// UploadBundle streams in progress at once (each spools to a temporary file).
inline constexpr int kMaxConcurrentUploads = 8;

// PostgreSQL session settings of the server's pooled connections (0 = off).
inline constexpr double kStatementTimeoutSeconds = 30;
inline constexpr double kIdleInTransactionTimeoutSeconds = 60;

// HTTP/2 keepalive. The server pings an idle transport every kServerKeepaliveTimeMs and
// drops it when no answer comes within kKeepaliveTimeoutMs; it accepts client pings as often
// as kMinClientPingIntervalMs. Clients ping during calls every kClientKeepaliveTimeMs (well
// above the server's minimum, so no GOAWAY too_many_pings).
inline constexpr int kServerKeepaliveTimeMs = 60 * 1000;
inline constexpr int kKeepaliveTimeoutMs = 20 * 1000;
inline constexpr int kMinClientPingIntervalMs = 10 * 1000;
inline constexpr int kClientKeepaliveTimeMs = 30 * 1000;
// A connection with no call for this long is closed (the client reconnects on its next call).
inline constexpr int kMaxConnectionIdleMs = 15 * 60 * 1000;
// Concurrent calls on one connection (more wait on the client for a free stream).
inline constexpr int kMaxConcurrentStreams = 256;
// An error message the server sends is cut to this size (it travels in the reply's headers;
// gRPC clients accept 8 KiB of them by default).
inline constexpr std::size_t kMaxStatusMessageBytes = 2048;
// The HTTP server (dashboard, JSON API, /metrics): worker threads, and how long an idle
// keep-alive connection may hold one.
inline constexpr int kHttpThreads = 32;
inline constexpr int kHttpKeepAliveSeconds = 2;

}  // namespace weft::core::limits
