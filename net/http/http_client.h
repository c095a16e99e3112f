// A small blocking HTTP/1.1 client for the CLI, the device agent's Linux
// transport, the fleet simulator and tests. One keep-alive connection, reopened
// when the server has closed it; every call is bounded by a timeout. Beast stays
// in http_client.cpp, so users compile fast.
//
// Threads: one HttpClient is used by one thread at a time; use one per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/host/error.h"
#include "net/http/message.h"

namespace updraft::net::http {

struct ClientResponse {
  int status = 0;
  Headers headers;  // names lower-case
  std::string body;

  // The header's value, or "" when absent. `name` in lower case.
  std::string_view header(std::string_view name) const;
};

struct HttpClientOptions {
  // request(): the whole exchange, connecting included. get_stream(): the longest
  // wait for any single read or write, so a large download is not cut short.
  std::chrono::milliseconds timeout{30'000};
  bool tls = false;
  // With tls: PEM file of trusted certificates; empty means the system's store
  // (unless a key is pinned, below). A file that cannot be read fails every request.
  std::string ca_file;
  bool verify_peer = true;  // with tls: check the chain and that it names `host`
  // With tls: the SHA-256 of the server certificate's SubjectPublicKeyInfo (its DER
  // encoding, as `openssl x509 -pubkey | openssl pkey -pubin -outform der | sha256sum`
  // gives it), 64 hex digits; empty: no pin. A pin alone is the whole trust (no CA
  // chain or name is checked: the key is the server); with ca_file as well, both
  // must hold. Checked after the handshake, before any request byte is sent.
  std::string server_key_sha256;
};

class HttpClient {
 public:
  HttpClient(std::string host, std::uint16_t port, HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request and reads the whole answer. Host, Content-Length and
  // User-Agent are set here; `headers` may add any others (e.g. Range). If a reused
  // connection turns out to have been closed by the server before it answered, the
  // request is sent once more on a new connection.
  // Errors: kTransportTimeout, or kTransportFailed with the reason (a TLS server
  // that is not trusted: "certificate not trusted: <why>" or "server key ... does
  // not match the pinned key"). Any HTTP status is a success here; the caller reads
  // `status`.
  HostResult<ClientResponse> request(Method method, std::string_view target,
                                     const Headers& headers = {}, std::string_view body = {});

  // A GET whose 2xx body is handed to `on_chunk` piece by piece as it arrives
  // instead of being kept; the returned body is then empty. Another status's body
  // is returned whole. `on_chunk` returning false stops the download (the
  // connection is dropped) and the response read so far is returned.
  HostResult<ClientResponse> get_stream(std::string_view target, const Headers& headers,
                                        const std::function<bool(std::string_view)>& on_chunk);

  // Drops the connection; the next request opens a new one.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace updraft::net::http
