// updraftd's HTTP/1.1 listener (Boost.Beast behind a pimpl, so including this
// header costs no Beast parsing). Keep-alive, chunked request bodies, files served
// with Range/ETag and zero-copy sendfile(2) on plain TCP, server-sent events and
// optional TLS (OpenSSL).
//
// Hostile clients: a route's admission check (router.h) runs on the header alone, so
// a request is refused (401, 403, 413, ...) before any body byte is read, and each
// route has its own body limit; bodies a route wants on disk stream to a file and
// are hashed on the way, never held in memory. Headers have a deadline, bodies and
// writes a no-progress timeout, and connections a global and a per-address cap.
//
// Threads: `threads` event loops, each a single-threaded io_context that owns its
// connections, so a connection's work is serialized without a strand. Handlers run
// on those threads and must not block for long: a slow handler delays the other
// connections of its loop. Nothing a client sends escapes as an exception: a
// malformed request is answered 400 and the connection closed, a handler that
// throws is logged and answered 500 INTERNAL.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/host/error.h"
#include "net/http/message.h"
#include "net/http/router.h"

namespace updraft::net::http {

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  // 0: the kernel picks one; read it back with HttpServer::port()
  unsigned threads = 0;    // 0: one per hardware thread
  // Larger bodies: 413 PAYLOAD_TOO_LARGE, decided from Content-Length before any
  // body byte is read, or while reading a chunked body. A route's admission
  // (router.h) may set its own limit.
  std::size_t max_body_bytes = 64 * 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;  // larger headers: 431
  // A request's header must be complete this long after its first byte (on a new
  // connection: after the accept); past it the connection is answered 408 and
  // closed, so a client trickling a header (slowloris) holds nothing for long.
  std::chrono::milliseconds header_timeout{10'000};
  // How long a keep-alive connection may wait for its next request, and how long
  // any read or write may make no progress. A body that keeps moving is never cut;
  // one that stalls this long is answered 408 and the connection closed.
  std::chrono::milliseconds idle_timeout{30'000};
  // At most this many open connections; 0: derived from the process's open-file
  // limit (RLIMIT_NOFILE), two descriptors per connection and some to spare. Over
  // it, the connection that has waited longest for a request is closed to make
  // room; when every connection is busy, the new one is answered 503 and closed.
  std::size_t max_connections = 0;
  // At most this many from one client address; 0: a quarter of max_connections.
  // Over it, that address's longest-waiting connection is closed; when all of
  // them are busy, the new one is answered 503 and closed. Others' connections
  // are never closed for it. Behind a reverse proxy, set it to max_connections.
  std::size_t max_connections_per_ip = 0;
  // Where bodies streamed to disk go (Admission::body_to_file); the system's
  // temporary directory if empty. Put it on the file system they move to.
  std::string body_file_dir;
  std::chrono::milliseconds sse_heartbeat{15'000};  // ": heartbeat" comment on idle streams
  // Both set: serve HTTPS only (PEM certificate chain and private key).
  std::string tls_cert_path;
  std::string tls_key_path;
  // Where errors are reported (handler exceptions, accept failures); stderr if empty.
  // Called from the server's threads.
  std::function<void(std::string_view)> log;
};

class HttpServer {
 public:
  // `handler` serves every request; it is called concurrently from the server's threads.
  // `admit`, if set, runs on the header of every request that has a body, before
  // any of it is read (router.h); without it every request gets the server's limits.
  HttpServer(HttpServerOptions options, Handler handler, Admit admit = {});
  // `router` must outlive the server; its routes' admission checks apply.
  HttpServer(HttpServerOptions options, const Router& router);
  ~HttpServer();  // stop(0) if still running
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the threads. kTransportFailed with the reason when the
  // address cannot be bound or the TLS files cannot be loaded. Call at most once.
  Result<void, Error> start();

  // The bound port (the kernel's choice when options.port was 0); 0 before start().
  std::uint16_t port() const;

  // Stops accepting, closes idle keep-alive and event-stream connections, lets
  // requests in flight finish until `grace` has passed, then closes whatever is left
  // and joins the threads. Safe to call more than once; never from a handler (it
  // would wait for its own thread).
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

  // Open connections right now (for tests and metrics).
  std::size_t connection_count() const;
  // The connection caps in force (the options, or what start() derived from the
  // open-file limit); 0 before start().
  std::size_t max_connections() const;
  std::size_t max_connections_per_ip() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace updraft::net::http
