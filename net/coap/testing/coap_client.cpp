#include "net/coap/testing/coap_client.h"

#include <coap3/coap.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <mutex>

namespace updraft::net::coap::testing {

struct CoapClient::Impl {
  coap_context_t* context = nullptr;
  coap_session_t* session = nullptr;
  Psk psk;  // kept alive: libcoap points into it
  std::vector<std::byte> token;
  std::optional<Reply> reply;
  bool failed = false;

  ~Impl() {
    if (session != nullptr) coap_session_release(session);
    if (context != nullptr) coap_free_context(context);
  }

  static Impl* of(const coap_session_t* s) {
    return static_cast<Impl*>(coap_get_app_data(coap_session_get_context(s)));
  }

  static coap_response_t on_response(coap_session_t* s, const coap_pdu_t*,
                                     const coap_pdu_t* received, const coap_mid_t) {
    Impl* self = of(s);
    const coap_bin_const_t token = coap_pdu_get_token(received);
    const ByteView got(reinterpret_cast<const std::byte*>(token.s), token.length);
    if (!std::equal(got.begin(), got.end(), self->token.begin(), self->token.end()))
      return COAP_RESPONSE_OK;  // a late answer to an earlier request
    Reply reply;
    reply.code = static_cast<Code>(coap_pdu_get_code(received));
    std::size_t length = 0;
    const std::uint8_t* data = nullptr;
    if (coap_get_data(received, &length, &data) != 0) {
      const auto* bytes = reinterpret_cast<const std::byte*>(data);
      reply.payload.assign(bytes, bytes + length);
    }
    coap_opt_iterator_t it;
    coap_option_iterator_init(received, &it, COAP_OPT_ALL);
    while (const coap_opt_t* option = coap_option_next(&it)) {
      const auto* value = reinterpret_cast<const std::byte*>(coap_opt_value(option));
      reply.options.emplace(static_cast<std::uint16_t>(it.number),
                            std::vector<std::byte>(value, value + coap_opt_length(option)));
      if (it.number == COAP_OPTION_BLOCK2) {
        const unsigned v = coap_decode_var_bytes(coap_opt_value(option), coap_opt_length(option));
        reply.block2 = Block{v >> 4, (v & 8) != 0, static_cast<std::uint8_t>(v & 7)};
      }
    }
    self->reply = std::move(reply);
    return COAP_RESPONSE_OK;
  }

  static void on_nack(coap_session_t* s, const coap_pdu_t*, const coap_nack_reason_t reason,
                      const coap_mid_t) {
    if (reason != COAP_NACK_TOO_MANY_RETRIES) of(s)->failed = true;
  }

  static int on_event(coap_session_t* s, const coap_event_t event) {
    if (event == COAP_EVENT_DTLS_ERROR || event == COAP_EVENT_DTLS_CLOSED) of(s)->failed = true;
    return 0;
  }
};

CoapClient::CoapClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CoapClient::~CoapClient() = default;

HostResult<std::unique_ptr<CoapClient>> CoapClient::connect(const std::string& host,
                                                            std::uint16_t port,
                                                            std::optional<Psk> psk) {
  static std::once_flag started;
  std::call_once(started, [] { coap_startup(); });
  auto impl = std::make_unique<Impl>();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0)
    return Error(ErrorCode::kTransportFailed, "cannot resolve " + host);
  coap_address_t server;
  coap_address_init(&server);
  std::memcpy(&server.addr, found->ai_addr, found->ai_addrlen);
  server.size = found->ai_addrlen;
  ::freeaddrinfo(found);

  impl->context = coap_new_context(nullptr);
  if (impl->context == nullptr) return Error(ErrorCode::kTransportFailed, "no CoAP context");
  coap_set_app_data(impl->context, impl.get());
  coap_context_set_block_mode(impl->context, 0);  // each block is the test's to ask for
  coap_register_response_handler(impl->context, &Impl::on_response);
  coap_register_nack_handler(impl->context, &Impl::on_nack);
  coap_register_event_handler(impl->context, &Impl::on_event);
  if (psk) {
    impl->psk = std::move(*psk);
    coap_dtls_cpsk_t setup{};
    setup.version = COAP_DTLS_CPSK_SETUP_VERSION;
    setup.psk_info.identity.s = reinterpret_cast<const std::uint8_t*>(impl->psk.identity.data());
    setup.psk_info.identity.length = impl->psk.identity.size();
    setup.psk_info.key.s = reinterpret_cast<const std::uint8_t*>(impl->psk.key.data());
    setup.psk_info.key.length = impl->psk.key.size();
    impl->session =
        coap_new_client_session_psk2(impl->context, nullptr, &server, COAP_PROTO_DTLS, &setup);
  } else {
    impl->session = coap_new_client_session(impl->context, nullptr, &server, COAP_PROTO_UDP);
  }
  if (impl->session == nullptr) return Error(ErrorCode::kTransportFailed, "no CoAP session");
  return std::unique_ptr<CoapClient>(new CoapClient(std::move(impl)));
}

HostResult<Reply> CoapClient::request(Method method, const std::string& path, ByteView payload,
                                      std::optional<Block> block2,
                                      std::chrono::milliseconds timeout) {
  Impl& impl = *impl_;
  if (impl.failed) return Error(ErrorCode::kTransportFailed, "the CoAP session failed");
  coap_pdu_t* pdu =
      coap_new_pdu(COAP_MESSAGE_CON, static_cast<coap_pdu_code_t>(method), impl.session);
  if (pdu == nullptr) return Error(ErrorCode::kTransportFailed, "no PDU");
  std::uint8_t token[8];
  std::size_t token_length = 0;
  coap_session_new_token(impl.session, &token_length, token);
  coap_add_token(pdu, token_length, token);
  impl.token.assign(reinterpret_cast<const std::byte*>(token),
                    reinterpret_cast<const std::byte*>(token) + token_length);
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) {
      coap_add_option(pdu, COAP_OPTION_URI_PATH, slash - start,
                      reinterpret_cast<const std::uint8_t*>(path.data() + start));
    }
    start = slash + 1;
  }
  if (block2) {
    std::uint8_t buf[4];
    const unsigned size = coap_encode_var_safe(
        buf, sizeof buf, (block2->num << 4) | (block2->more ? 8u : 0u) | (block2->szx & 7u));
    coap_add_option(pdu, COAP_OPTION_BLOCK2, size, buf);
  }
  if (!payload.empty())
    coap_add_data(pdu, payload.size(), reinterpret_cast<const std::uint8_t*>(payload.data()));
  impl.reply.reset();
  if (coap_send(impl.session, pdu) == COAP_INVALID_MID)
    return Error(ErrorCode::kTransportFailed, "cannot send");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!impl.reply && !impl.failed && std::chrono::steady_clock::now() < deadline)
    coap_io_process(impl.context, 50);
  if (impl.reply) return std::move(*impl.reply);
  if (impl.failed) return Error(ErrorCode::kTransportFailed, "the CoAP session failed");
  return Error(ErrorCode::kTransportTimeout, "no answer to " + path);
}

}  // namespace updraft::net::coap::testing
