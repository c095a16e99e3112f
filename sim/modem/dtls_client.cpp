#include "sim/modem/dtls_client.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace updraft::sim {

namespace {

constexpr std::size_t kMaxWaiting = 64;

// OpenSSL's queued reasons, oldest first, e.g. "sslv3 alert handshake failure".
std::string openssl_reasons() {
  std::string reasons;
  while (const unsigned long e = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(e);
    if (!reasons.empty()) reasons += "; ";
    reasons += reason != nullptr ? reason : "error " + std::to_string(e);
  }
  return reasons;
}

}  // namespace

// A BIO whose datagrams are the session's: writes go to its transmit callback,
// reads come from its inbox. It answers no datagram controls, so OpenSSL uses the
// MTU it is given (SSL_OP_NO_QUERY_MTU) and the timer the modem drives.
struct AirBio {
  static BIO_METHOD* method() {
    static BIO_METHOD* const made = [] {
      BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "updraft air");
      BIO_meth_set_create(m, [](BIO* bio) {
        BIO_set_init(bio, 1);
        return 1;
      });
      BIO_meth_set_write(m, write);
      BIO_meth_set_read(m, read);
      BIO_meth_set_ctrl(m, [](BIO*, int cmd, long, void*) -> long {
        return cmd == BIO_CTRL_FLUSH ? 1 : 0;  // OpenSSL flushes after each flight
      });
      return m;
    }();
    return made;
  }

  static int write(BIO* bio, const char* data, int size) {
    auto* session = static_cast<DtlsSession*>(BIO_get_data(bio));
    session->transmit_(as_bytes_view(data, static_cast<std::size_t>(size)));
    return size;
  }

  static int read(BIO* bio, char* out, int size) {
    BIO_clear_retry_flags(bio);
    auto* session = static_cast<DtlsSession*>(BIO_get_data(bio));
    if (session->inbox_.empty()) {
      BIO_set_retry_read(bio);
      return -1;
    }
    const std::vector<std::byte> datagram = std::move(session->inbox_.front());
    session->inbox_.pop_front();
    const std::size_t n = std::min(datagram.size(), static_cast<std::size_t>(size));
    std::memcpy(out, datagram.data(), n);
    return static_cast<int>(n);
  }
};

HostResult<std::unique_ptr<DtlsContext>> DtlsContext::create(const DtlsConfig& config) {
  if (config.identity.empty() || config.key.empty())
    return Error(ErrorCode::kInvalidArgument, "DTLS needs both an identity and a key");
  std::unique_ptr<DtlsContext> context(new DtlsContext(config));
  context->ctx_ = SSL_CTX_new(DTLS_client_method());
  if (context->ctx_ == nullptr)
    return Error(ErrorCode::kInternal, "SSL_CTX_new: " + openssl_reasons());
  SSL_CTX_set_min_proto_version(context->ctx_, DTLS1_2_VERSION);
  if (SSL_CTX_set_cipher_list(context->ctx_, config.ciphers.c_str()) != 1) {
    return Error(ErrorCode::kInvalidArgument,
                 "DTLS ciphers '" + config.ciphers + "': " + openssl_reasons());
  }
  SSL_CTX_set_app_data(context->ctx_, context.get());
  SSL_CTX_set_psk_client_callback(
      context->ctx_,
      [](SSL* ssl, const char*, char* identity, unsigned int max_identity, unsigned char* psk,
         unsigned int max_psk) -> unsigned int {
        const auto* self =
            static_cast<const DtlsContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
        const DtlsConfig& c = self->config_;
        if (c.identity.size() + 1 > max_identity || c.key.size() > max_psk) return 0;
        std::memcpy(identity, c.identity.c_str(), c.identity.size() + 1);
        std::memcpy(psk, c.key.data(), c.key.size());
        return static_cast<unsigned int>(c.key.size());
      });
  return context;
}

DtlsContext::~DtlsContext() { SSL_CTX_free(ctx_); }

DtlsSession::DtlsSession(DtlsContext& context, Transmit transmit)
    : transmit_(std::move(transmit)), ssl_(SSL_new(context.ctx_)) {
  BIO* bio = BIO_new(AirBio::method());
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_, bio, bio);
  SSL_set_options(ssl_, SSL_OP_NO_QUERY_MTU);
  DTLS_set_link_mtu(ssl_, context.config_.mtu);
  SSL_set_connect_state(ssl_);
}

DtlsSession::~DtlsSession() { SSL_free(ssl_); }

HostResult<void> DtlsSession::send(ByteView plaintext) {
  if (waiting_.size() == kMaxWaiting) waiting_.pop_front();
  waiting_.emplace_back(plaintext.begin(), plaintext.end());
  return drive(nullptr);
}

HostResult<void> DtlsSession::receive(ByteView datagram,
                                      std::vector<std::vector<std::byte>>& plaintext) {
  inbox_.emplace_back(datagram.begin(), datagram.end());
  return drive(&plaintext);
}

HostResult<void> DtlsSession::drive(std::vector<std::vector<std::byte>>* plaintext) {
  if (!established_) {
    const int r = SSL_do_handshake(ssl_);
    if (r != 1) {
      const int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return {};
      return failure(e, "handshake");
    }
    established_ = true;
  }
  while (!waiting_.empty()) {
    const std::vector<std::byte>& next = waiting_.front();
    const int r = SSL_write(ssl_, next.data(), static_cast<int>(next.size()));
    if (r <= 0) return failure(SSL_get_error(ssl_, r), "write");
    waiting_.pop_front();
  }
  if (plaintext == nullptr) return {};
  std::array<std::byte, 1 << 14> record;  // DTLS's largest record payload
  for (;;) {
    const int r = SSL_read(ssl_, record.data(), static_cast<int>(record.size()));
    if (r > 0) {
      plaintext->emplace_back(record.begin(), record.begin() + r);
      continue;
    }
    const int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ) return {};
    if (e == SSL_ERROR_ZERO_RETURN)
      return Error(ErrorCode::kTransportFailed, "DTLS: the server closed the session");
    return failure(e, "read");
  }
}

DtlsSession::Clock::time_point DtlsSession::timer() const {
  timeval left{};
  if (DTLSv1_get_timeout(ssl_, &left) != 1) return Clock::time_point::max();
  return Clock::now() + std::chrono::seconds(left.tv_sec) + std::chrono::microseconds(left.tv_usec);
}

HostResult<void> DtlsSession::on_timer() {
  if (DTLSv1_handle_timeout(ssl_) >= 0) return {};
  const std::string reasons = openssl_reasons();
  return Error(ErrorCode::kTransportTimeout,
               "DTLS handshake: no answer from the server" +
                   (reasons.empty() ? std::string() : " (" + reasons + ")"));
}

void DtlsSession::close() {
  if (established_) SSL_shutdown(ssl_);
}

std::string DtlsSession::cipher() const { return SSL_get_cipher_name(ssl_); }

Error DtlsSession::failure(int ssl_error, const char* what) {
  std::string reasons = openssl_reasons();
  if (reasons.empty()) reasons = "SSL error " + std::to_string(ssl_error);
  return Error(ErrorCode::kTransportFailed, std::string("DTLS ") + what + ": " + reasons);
}

}  // namespace updraft::sim
