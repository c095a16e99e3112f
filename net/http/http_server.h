// updraftd's HTTP/1.1 listener (Boost.Beast behind a pimpl, so including this
// header costs no Beast parsing). Keep-alive, chunked request bodies, files served
// with Range/ETag and zero-copy sendfile(2) on plain TCP, server-sent events and
// optional TLS (OpenSSL).
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
  std::size_t max_body_bytes = 64 * 1024 * 1024;  // larger bodies: 413 PAYLOAD_TOO_LARGE
  std::size_t max_header_bytes = 16 * 1024;       // larger headers: 431
  // How long a keep-alive connection may sit idle, and the longest any single read
  // or write may stall before the connection is dropped.
  std::chrono::milliseconds idle_timeout{30'000};
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
  HttpServer(HttpServerOptions options, Handler handler);
  // `router` must outlive the server.
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

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace updraft::net::http
