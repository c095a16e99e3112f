#include "net/coap/coap_server.h"

#include <coap3/coap.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace updraft::net::coap {
namespace {

// RFC 7252 section 4.8.2: how long a message id may come back as a duplicate.
constexpr std::chrono::seconds kExchangeLifetime{247};
constexpr std::uint32_t kLoopTimeoutMs = 100;  // how quickly stop() is noticed

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> segments;
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    const std::string_view segment = path.substr(0, slash);
    if (!segment.empty()) segments.emplace_back(segment);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

std::vector<std::byte> bytes_of(const std::uint8_t* data, std::size_t size) {
  const auto* first = reinterpret_cast<const std::byte*>(data);
  return std::vector<std::byte>(first, first + size);
}

// Bytes an option takes on the wire after the previous one (RFC 7252 section 3.1).
std::size_t option_wire_size(std::uint32_t delta, std::size_t length) {
  const auto extended = [](std::size_t v) -> std::size_t { return v < 13 ? 0 : v < 269 ? 1 : 2; };
  return 1 + extended(delta) + extended(length) + length;
}

// The port coap_endpoint_str() prints ("127.0.0.1:5683 UDP", "[::1]:5684 DTLS"):
// libcoap 3.x has no accessor for an endpoint's bound address.
std::uint16_t bound_port(const coap_endpoint_t* endpoint) {
  const std::string text = coap_endpoint_str(endpoint);
  const std::size_t space = text.rfind(' ');
  const std::size_t colon = text.rfind(':', space);
  if (colon == std::string::npos || space == std::string::npos || space < colon) return 0;
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(text.data() + colon + 1, text.data() + space, port);
  if (ec != std::errc() || end != text.data() + space || port > 65535) return 0;
  return static_cast<std::uint16_t>(port);
}

}  // namespace

struct CoapServer::Impl {
  struct Route {
    Method method;
    std::vector<std::string> prefix;
    Handler handler;
  };
  // The last non-GET confirmable exchange of a peer, answered again for a duplicate.
  struct Exchange {
    coap_mid_t mid = 0;
    std::vector<std::byte> token;
    std::chrono::steady_clock::time_point at;
    Response response;
  };

  CoapServerOptions options;
  std::vector<Route> routes;
  coap_context_t* context = nullptr;
  std::uint16_t udp_port = 0;
  std::uint16_t dtls_port = 0;
  std::atomic<bool> stopping{false};
  std::thread thread;
  std::unordered_map<const coap_session_t*, Exchange> last_exchange;
  // What the PSK callback returns: libcoap copies it before the next call.
  std::string psk_key;
  coap_bin_const_t psk_bin{};

  void log(const std::string& text) const {
    if (options.log) {
      options.log(text);
    } else {
      std::fprintf(stderr, "coap: %s\n", text.c_str());
    }
  }

  HostResult<std::uint16_t> open(const Endpoint& endpoint, coap_proto_t proto) {
    const char* what = proto == COAP_PROTO_DTLS ? "coaps" : "coap";
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(endpoint.port);
    if (const int rc = ::getaddrinfo(endpoint.address.c_str(), port.c_str(), &hints, &found);
        rc != 0) {
      return Error(ErrorCode::kTransportFailed, std::string(what) + ": cannot resolve " +
                                                    endpoint.address + ": " + gai_strerror(rc));
    }
    coap_address_t address;
    coap_address_init(&address);
    const bool fits = found->ai_addrlen <= sizeof(address.addr);
    if (fits) {
      std::memcpy(&address.addr, found->ai_addr, found->ai_addrlen);
      address.size = found->ai_addrlen;
    }
    ::freeaddrinfo(found);
    if (!fits) return Error(ErrorCode::kTransportFailed, std::string(what) + ": odd address");
    coap_endpoint_t* opened = coap_new_endpoint(context, &address, proto);
    if (opened == nullptr) {
      return Error(ErrorCode::kTransportFailed,
                   std::string(what) + ": cannot listen on " + endpoint.address + ":" + port);
    }
    const std::uint16_t bound = bound_port(opened);
    if (bound == 0) {
      return Error(ErrorCode::kTransportFailed,
                   std::string(what) + ": no port in \"" + coap_endpoint_str(opened) + "\"");
    }
    return bound;
  }

  Response dispatch(const Request& request) const {
    const Route* best = nullptr;
    bool other_method = false;
    for (const Route& route : routes) {
      if (route.prefix.size() > request.path.size() ||
          !std::equal(route.prefix.begin(), route.prefix.end(), request.path.begin())) {
        continue;
      }
      if (route.method != request.method) {
        other_method = true;
        continue;
      }
      if (best == nullptr || route.prefix.size() > best->prefix.size()) best = &route;
    }
    if (best == nullptr) {
      return other_method ? Response::error(Code::kMethodNotAllowed, "method not allowed here")
                          : Response::error(Code::kNotFound, "no such resource");
    }
    try {
      return best->handler(request);
    } catch (const std::exception& e) {
      log(std::string("handler failed: ") + e.what());
    } catch (...) {
      log("handler failed with an unknown exception");
    }
    return Response::error(Code::kInternalServerError, "internal error");
  }

  // Writes `answer` into libcoap's response, or a 5.00 if it cannot be sent as one
  // message: libcoap would otherwise fail half-way, after some options were added.
  void write(coap_session_t* session, const coap_pdu_t* request, const Response& answer,
             coap_pdu_t* pdu) const {
    std::vector<std::pair<std::uint16_t, std::vector<std::byte>>> all;
    bool valid = true;
    if (answer.block2) {
      const Block& b = *answer.block2;
      valid = b.num <= kMaxBlockNum && b.szx <= 7;
      std::uint8_t buf[4];
      const unsigned size = coap_encode_var_safe(
          buf, sizeof buf, (b.num << 4) | (b.more ? 8u : 0u) | static_cast<unsigned>(b.szx & 7));
      all.emplace_back(static_cast<std::uint16_t>(COAP_OPTION_BLOCK2), bytes_of(buf, size));
    }
    for (const Option& o : answer.options) all.emplace_back(o.number, o.value);
    std::stable_sort(all.begin(), all.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::size_t needed = coap_pdu_get_token(request).length;
    std::uint16_t previous = 0;
    for (const auto& [number, value] : all) {
      needed += option_wire_size(number - previous, value.size());
      previous = number;
    }
    if (!answer.payload.empty()) needed += 1 + answer.payload.size();
    if (!valid || needed > coap_session_max_pdu_size(session)) {
      log("a " + code_text(answer.code) + " answer of " + std::to_string(needed) +
          " bytes does not fit one message (at most " +
          std::to_string(coap_session_max_pdu_size(session)) + ") or has a bad Block2");
      static constexpr char kText[] = "response too large";
      coap_pdu_set_code(pdu, static_cast<coap_pdu_code_t>(Code::kInternalServerError));
      coap_add_data(pdu, sizeof kText - 1, reinterpret_cast<const std::uint8_t*>(kText));
      return;
    }
    coap_pdu_set_code(pdu, static_cast<coap_pdu_code_t>(answer.code));
    for (const auto& [number, value] : all) {
      coap_add_option(pdu, number, value.size(),
                      reinterpret_cast<const std::uint8_t*>(value.data()));
    }
    if (!answer.payload.empty()) {
      coap_add_data(pdu, answer.payload.size(),
                    reinterpret_cast<const std::uint8_t*>(answer.payload.data()));
    }
  }

  void serve(coap_session_t* session, const coap_pdu_t* pdu, coap_pdu_t* response) {
    Request request;
    request.method = static_cast<Method>(coap_pdu_get_code(pdu));
    const coap_bin_const_t token = coap_pdu_get_token(pdu);
    const bool deduplicate =
        request.method != Method::kGet && coap_pdu_get_type(pdu) == COAP_MESSAGE_CON;
    const auto now = std::chrono::steady_clock::now();
    if (deduplicate) {
      const auto it = last_exchange.find(session);
      if (it != last_exchange.end() && it->second.mid == coap_pdu_get_mid(pdu) &&
          it->second.token == bytes_of(token.s, token.length) &&
          now - it->second.at < kExchangeLifetime) {
        write(session, pdu, it->second.response, response);
        return;
      }
    }

    coap_opt_iterator_t it;
    coap_opt_filter_t filter;
    coap_option_filter_clear(&filter);
    coap_option_filter_set(&filter, COAP_OPTION_URI_PATH);
    coap_option_iterator_init(pdu, &it, &filter);
    while (const coap_opt_t* option = coap_option_next(&it)) {
      request.path.emplace_back(reinterpret_cast<const char*>(coap_opt_value(option)),
                                coap_opt_length(option));
    }
    std::size_t length = 0;
    const std::uint8_t* data = nullptr;
    if (coap_get_data(pdu, &length, &data) != 0) request.payload = bytes_of(data, length);
    if (coap_session_get_proto(session) == COAP_PROTO_DTLS) {
      const coap_bin_const_t* identity = coap_session_get_psk_identity(session);
      request.identity =
          identity != nullptr
              ? std::string(reinterpret_cast<const char*>(identity->s), identity->length)
              : std::string();
    }

    Response answer;
    const coap_opt_t* block = coap_check_option(pdu, COAP_OPTION_BLOCK2, &it);
    if (block != nullptr && coap_opt_length(block) > 3) {
      answer = Response::error(Code::kBadOption, "Block2: at most 3 bytes");
    } else {
      if (block != nullptr) {
        const unsigned value = coap_decode_var_bytes(coap_opt_value(block), coap_opt_length(block));
        request.block2 = Block{value >> 4, (value & 8) != 0, static_cast<std::uint8_t>(value & 7)};
      }
      answer = dispatch(request);
    }
    write(session, pdu, answer, response);
    if (deduplicate) {
      last_exchange[session] =
          Exchange{coap_pdu_get_mid(pdu), bytes_of(token.s, token.length), now, std::move(answer)};
    }
  }

  static Impl* of(const coap_session_t* session) {
    return static_cast<Impl*>(coap_get_app_data(coap_session_get_context(session)));
  }

  static void on_request(coap_resource_t*, coap_session_t* session, const coap_pdu_t* request,
                         const coap_string_t*, coap_pdu_t* response) {
    of(session)->serve(session, request, response);
  }

  static int on_event(coap_session_t* session, const coap_event_t event) {
    if (event == COAP_EVENT_SERVER_SESSION_DEL) of(session)->last_exchange.erase(session);
    return 0;
  }

  static const coap_bin_const_t* on_psk_identity(coap_bin_const_t* identity, coap_session_t*,
                                                 void* arg) {
    Impl* self = static_cast<Impl*>(arg);
    const std::string_view id(reinterpret_cast<const char*>(identity->s), identity->length);
    std::optional<std::string> key;
    try {
      key = self->options.psk(id);
    } catch (const std::exception& e) {
      self->log(std::string("PSK lookup failed: ") + e.what());
    }
    if (!key || key->empty()) return nullptr;
    self->psk_key = std::move(*key);
    self->psk_bin.s = reinterpret_cast<const std::uint8_t*>(self->psk_key.data());
    self->psk_bin.length = self->psk_key.size();
    return &self->psk_bin;
  }
};

CoapServer::CoapServer(CoapServerOptions options) : impl_(std::make_unique<Impl>()) {
  static std::once_flag started;
  std::call_once(started, [] { coap_startup(); });
  impl_->options = std::move(options);
}

CoapServer::~CoapServer() { stop(); }

void CoapServer::handle(Method method, std::string_view prefix, Handler handler) {
  impl_->routes.push_back(Impl::Route{method, split_path(prefix), std::move(handler)});
}

Result<void, Error> CoapServer::start() {
  Impl& impl = *impl_;
  if (impl.context != nullptr) return Error(ErrorCode::kInvalidArgument, "CoAP server started");
  if (!impl.options.udp && !impl.options.dtls)
    return Error(ErrorCode::kInvalidArgument, "CoAP server: no endpoint");
  if (impl.options.dtls && !impl.options.psk)
    return Error(ErrorCode::kInvalidArgument, "coaps: needs a PSK lookup");
  if (impl.options.dtls && !coap_dtls_is_supported())
    return Error(ErrorCode::kTransportFailed, "coaps: this libcoap has no DTLS");

  impl.context = coap_new_context(nullptr);
  if (impl.context == nullptr) return Error(ErrorCode::kTransportFailed, "coap: no context");
  coap_set_app_data(impl.context, &impl);
  // Blocks are the handlers' business (see the header): libcoap must not split
  // bodies or answer Block2 requests itself.
  coap_context_set_block_mode(impl.context, 0);
  coap_register_event_handler(impl.context, &Impl::on_event);
  // Every path goes to one resource, which dispatches by method and prefix.
  coap_resource_t* all = coap_resource_unknown_init2(&Impl::on_request, 0);
  for (coap_request_t method : {COAP_REQUEST_GET, COAP_REQUEST_POST, COAP_REQUEST_DELETE})
    coap_register_request_handler(all, method, &Impl::on_request);
  coap_add_resource(impl.context, all);

  const auto fail = [&impl](Error error) -> Result<void, Error> {
    coap_free_context(impl.context);
    impl.context = nullptr;
    return error;
  };
  if (impl.options.dtls) {
    coap_dtls_spsk_t setup{};
    setup.version = COAP_DTLS_SPSK_SETUP_VERSION;
    setup.validate_id_call_back = &Impl::on_psk_identity;
    setup.id_call_back_arg = &impl;
    if (!coap_context_set_psk2(impl.context, &setup))
      return fail(Error(ErrorCode::kTransportFailed, "coaps: cannot set up PSK"));
    HostResult<std::uint16_t> port = impl.open(*impl.options.dtls, COAP_PROTO_DTLS);
    if (!port.ok()) return fail(port.error());
    impl.dtls_port = *port;
  }
  if (impl.options.udp) {
    HostResult<std::uint16_t> port = impl.open(*impl.options.udp, COAP_PROTO_UDP);
    if (!port.ok()) return fail(port.error());
    impl.udp_port = *port;
  }
  impl.thread = std::thread([&impl] {
    while (!impl.stopping.load()) {
      if (coap_io_process(impl.context, kLoopTimeoutMs) < 0) {
        impl.log("io loop error");
        std::this_thread::sleep_for(std::chrono::milliseconds(kLoopTimeoutMs));
      }
    }
  });
  return {};
}

std::uint16_t CoapServer::udp_port() const { return impl_->udp_port; }
std::uint16_t CoapServer::dtls_port() const { return impl_->dtls_port; }

void CoapServer::stop() {
  Impl& impl = *impl_;
  impl.stopping = true;
  if (impl.thread.joinable()) impl.thread.join();
  if (impl.context != nullptr) {
    coap_free_context(impl.context);
    impl.context = nullptr;
  }
}

}  // namespace updraft::net::coap
