#include "net/http/http_client.h"

#include <exception>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

// Boost 1.74's awaitable.hpp uses std::exchange and relies on <utility> above.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

// The server key pin: SHA-256 of the peer certificate's SubjectPublicKeyInfo.
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "core/host/hex.h"

namespace updraft::net::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr std::size_t kChunkBytes = 64 * 1024;
constexpr std::uint32_t kMaxResponseHeaderBytes = 64 * 1024;
// Not boost::none: Beast 1.74 compares a Content-Length against an empty optional
// as "greater" and reports body_limit.
constexpr std::uint64_t kNoBodyLimit = std::numeric_limits<std::uint64_t>::max();

auto redirect(error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

std::string lower(beast::string_view text) {
  std::string out(text.data(), text.size());
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

template <class Fields>
void copy_headers(const Fields& fields, Headers& out) {
  for (const auto& field : fields) {
    auto [it, inserted] =
        out.try_emplace(lower(field.name_string()), field.value().data(), field.value().size());
    if (!inserted) {
      it->second += ", ";
      it->second.append(field.value().data(), field.value().size());
    }
  }
}

bool is_ip_literal(const std::string& host) {
  error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

// SHA-256 of the DER SubjectPublicKeyInfo of `ssl`'s peer certificate, in hex;
// empty if the peer sent none.
std::string peer_key_sha256(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return {};
  unsigned char* der = nullptr;
  const int length = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
  X509_free(cert);
  if (length <= 0) return {};
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(der, static_cast<std::size_t>(length), digest);
  OPENSSL_free(der);
  return to_hex(as_bytes_view(digest, sizeof digest));
}

std::string lower_hex(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

// What one exchange learned besides its error: whether any answer arrived (a
// silent, reused connection is retried) and whether the connection may be reused.
struct ExchangeState {
  bool got_bytes = false;
  bool keep_alive = false;
};

}  // namespace

std::string_view ClientResponse::header(std::string_view name) const {
  const auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string_view() : std::string_view(it->second);
}

struct HttpClient::Impl {
  std::string host;
  std::uint16_t port = 0;
  HttpClientOptions options;
  std::string host_field;
  asio::io_context io{1};
  std::optional<asio::ssl::context> tls;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  std::vector<char> chunk;
  bool connected = false;
  std::string setup_error;  // a TLS option that cannot work: every request fails with it
  std::string tls_failure;  // why the last handshake was not trusted, for the error

  beast::tcp_stream& tcp() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  // Runs one coroutine on the private io_context until it finishes.
  error_code run(asio::awaitable<error_code> operation) {
    error_code result;
    asio::co_spawn(io, std::move(operation), [&](std::exception_ptr failure, error_code ec) {
      result = failure ? make_error_code(boost::system::errc::io_error) : ec;
    });
    io.restart();
    io.run();
    return result;
  }

  Error transport_error(std::string_view what, const error_code& ec) const {
    const ErrorCode code =
        ec == beast::error::timeout ? ErrorCode::kTransportTimeout : ErrorCode::kTransportFailed;
    return Error(code,
                 std::string(what) + " " + host + ":" + std::to_string(port) + ": " + ec.message());
  }

  void drop() {
    if (plain || secure) {
      error_code ec;
      tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
      tcp().close();
    }
    secure.reset();
    plain.reset();
    buffer.clear();
    connected = false;
  }

  asio::awaitable<error_code> connect(std::chrono::steady_clock::time_point deadline) {
    error_code ec;
    tcp::resolver resolver(io);
    const auto endpoints =
        co_await resolver.async_resolve(host, std::to_string(port), redirect(ec));
    if (ec) co_return ec;
    if (tls) {
      secure.emplace(io, *tls);
    } else {
      plain.emplace(io);
    }
    tcp().expires_at(deadline);
    co_await tcp().async_connect(endpoints, redirect(ec));
    if (ec) co_return ec;
    tcp().socket().set_option(tcp::no_delay(true), ec);
    if (secure) {
      // SNI, and the name the certificate must carry.
      if (!is_ip_literal(host)) SSL_set_tlsext_host_name(secure->native_handle(), host.c_str());
      const bool pinned = !options.server_key_sha256.empty();
      // A pinned key alone is the trust: the chain and name are not checked then.
      if (options.verify_peer && !(pinned && options.ca_file.empty())) {
        secure->set_verify_mode(asio::ssl::verify_peer, ec);
        if (!ec) secure->set_verify_callback(asio::ssl::host_name_verification(host), ec);
        if (ec) co_return ec;
      }
      tls_failure.clear();
      co_await secure->async_handshake(asio::ssl::stream_base::client, redirect(ec));
      if (ec) {
        const long verdict = SSL_get_verify_result(secure->native_handle());
        if (verdict != X509_V_OK) {
          tls_failure =
              std::string("certificate not trusted: ") + X509_verify_cert_error_string(verdict);
        }
        co_return ec;
      }
      if (pinned) {
        const std::string key = peer_key_sha256(secure->native_handle());
        if (key != lower_hex(options.server_key_sha256)) {
          tls_failure = "server key " + (key.empty() ? std::string("(none)") : key) +
                        " does not match the pinned key " + options.server_key_sha256;
          co_return make_error_code(boost::system::errc::permission_denied);
        }
      }
    }
    connected = true;
    co_return error_code();
  }

  template <class Stream>
  asio::awaitable<error_code> exchange(Stream& stream,
                                       const bhttp::request<bhttp::string_body>& req,
                                       std::chrono::steady_clock::time_point deadline,
                                       ClientResponse& out, ExchangeState& state) {
    error_code ec;
    tcp().expires_at(deadline);
    co_await bhttp::async_write(stream, req, redirect(ec));
    // A server may answer before the body is through (401, 413) and close: the
    // answer is then still in the receive queue, and says more than the reset.
    const error_code write_error = ec;
    if (write_error == beast::error::timeout) co_return write_error;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(kNoBodyLimit);
    parser.header_limit(kMaxResponseHeaderBytes);
    if (req.method() == bhttp::verb::head) parser.skip(true);
    co_await bhttp::async_read(stream, buffer, parser, redirect(ec));
    state.got_bytes = parser.got_some();
    if (write_error && (ec || parser.keep_alive())) co_return write_error;
    if (ec) co_return ec;
    out.status = static_cast<int>(parser.get().result_int());
    copy_headers(parser.get(), out.headers);
    out.body = std::move(parser.get().body());
    state.keep_alive = parser.keep_alive();
    co_return error_code();
  }

  template <class Stream>
  asio::awaitable<error_code> exchange_stream(Stream& stream,
                                              const bhttp::request<bhttp::string_body>& req,
                                              const std::function<bool(std::string_view)>& on_chunk,
                                              ClientResponse& out, ExchangeState& state) {
    const auto timeout = options.timeout;
    error_code ec;
    tcp().expires_after(timeout);
    co_await bhttp::async_write(stream, req, redirect(ec));
    if (ec) co_return ec;
    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.body_limit(kNoBodyLimit);
    parser.header_limit(kMaxResponseHeaderBytes);
    tcp().expires_after(timeout);
    co_await bhttp::async_read_header(stream, buffer, parser, redirect(ec));
    state.got_bytes = parser.got_some();
    if (ec) co_return ec;
    out.status = static_cast<int>(parser.get().result_int());
    copy_headers(parser.get(), out.headers);
    const bool to_callback = out.status >= 200 && out.status < 300;
    chunk.resize(kChunkBytes);
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      tcp().expires_after(timeout);
      co_await bhttp::async_read_some(stream, buffer, parser, redirect(ec));
      // A TLS peer that closes without close_notify ends a body that runs to EOF.
      const bool truncated = ec == asio::ssl::error::stream_truncated;
      if (ec == bhttp::error::need_buffer || truncated) ec = {};
      if (ec) co_return ec;
      const std::size_t got = chunk.size() - parser.get().body().size;
      const std::string_view piece(chunk.data(), got);
      if (!to_callback) {
        out.body.append(piece);
      } else if (got > 0 && !on_chunk(piece)) {
        co_return error_code();  // keep_alive stays false: the rest is never read
      }
      if (truncated) co_return error_code();
    }
    state.keep_alive = parser.keep_alive();
    co_return error_code();
  }

  // Sends `req` (on a new connection if needed) and runs `attempt` for the answer;
  // a reused connection the server had closed is retried once on a fresh one.
  template <class Attempt>
  HostResult<ClientResponse> perform(const bhttp::request<bhttp::string_body>& req,
                                     Attempt&& attempt) {
    for (int round = 0;; ++round) {
      const bool reused = connected;
      const auto deadline = std::chrono::steady_clock::now() + options.timeout;
      if (!setup_error.empty()) return Error(ErrorCode::kTransportFailed, setup_error);
      if (!connected) {
        const error_code ec = run(connect(deadline));
        if (ec) {
          drop();
          if (!tls_failure.empty()) {
            return Error(ErrorCode::kTransportFailed,
                         "connect to " + host + ":" + std::to_string(port) + ": " + tls_failure);
          }
          return transport_error("connect to", ec);
        }
      }
      ClientResponse response;
      ExchangeState state;
      const error_code ec = run(attempt(deadline, response, state));
      if (ec) {
        drop();
        if (reused && round == 0 && !state.got_bytes && ec != beast::error::timeout) continue;
        std::string what(req.method_string().data(), req.method_string().size());
        what += " ";
        what.append(req.target().data(), req.target().size());
        what += " on";
        return transport_error(what, ec);
      }
      if (!state.keep_alive) drop();
      return response;
    }
  }

  HostResult<bhttp::request<bhttp::string_body>> build(Method method, std::string_view target,
                                                       const Headers& headers,
                                                       std::string_view body) const {
    const bhttp::verb verb = bhttp::string_to_verb(
        beast::string_view(method_name(method).data(), method_name(method).size()));
    if (method == Method::kOther || verb == bhttp::verb::unknown) {
      return Error(ErrorCode::kInvalidArgument, "unsupported HTTP method");
    }
    bhttp::request<bhttp::string_body> req{verb, beast::string_view(target.data(), target.size()),
                                           11};
    req.set(bhttp::field::host, host_field);
    req.set(bhttp::field::user_agent, "updraft");
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body().assign(body.data(), body.size());
    req.prepare_payload();
    return req;
  }
};

HttpClient::HttpClient(std::string host, std::uint16_t port, HttpClientOptions options)
    : impl_(std::make_unique<Impl>()) {
  Impl& impl = *impl_;
  impl.host = std::move(host);
  impl.port = port;
  impl.options = std::move(options);
  const bool bracket = impl.host.find(':') != std::string::npos;  // an IPv6 literal
  impl.host_field = (bracket ? "[" + impl.host + "]" : impl.host) + ":" + std::to_string(port);
  if (impl.options.tls) {
    impl.tls.emplace(asio::ssl::context::tls_client);
    error_code ec;
    if (impl.options.ca_file.empty()) {
      impl.tls->set_default_verify_paths(ec);
    } else {
      impl.tls->load_verify_file(impl.options.ca_file, ec);
      if (ec) impl.setup_error = "CA file " + impl.options.ca_file + ": " + ec.message();
    }
    const std::string& pin = impl.options.server_key_sha256;
    if (!pin.empty() && (pin.size() != 64 ||
                         pin.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)) {
      impl.setup_error = "server key pin: expected 64 hex digits (SHA-256), got \"" + pin + "\"";
    }
  }
}

HttpClient::~HttpClient() { impl_->drop(); }

void HttpClient::close() { impl_->drop(); }

HostResult<ClientResponse> HttpClient::request(Method method, std::string_view target,
                                               const Headers& headers, std::string_view body) {
  UPDRAFT_TRY_ASSIGN(const auto req, impl_->build(method, target, headers, body));
  Impl& impl = *impl_;
  return impl.perform(req, [&](auto deadline, ClientResponse& out, ExchangeState& state) {
    return impl.secure ? impl.exchange(*impl.secure, req, deadline, out, state)
                       : impl.exchange(*impl.plain, req, deadline, out, state);
  });
}

HostResult<ClientResponse> HttpClient::get_stream(
    std::string_view target, const Headers& headers,
    const std::function<bool(std::string_view)>& on_chunk) {
  UPDRAFT_TRY_ASSIGN(const auto req, impl_->build(Method::kGet, target, headers, {}));
  Impl& impl = *impl_;
  return impl.perform(req, [&](auto, ClientResponse& out, ExchangeState& state) {
    return impl.secure ? impl.exchange_stream(*impl.secure, req, on_chunk, out, state)
                       : impl.exchange_stream(*impl.plain, req, on_chunk, out, state);
  });
}

}  // namespace updraft::net::http
