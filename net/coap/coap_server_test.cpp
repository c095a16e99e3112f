// CoapServer on loopback, asked by libcoap's own client (testing/coap_client.h)
// and, where a test needs to send the very same datagram twice, by a raw UDP
// socket: dispatch by method and prefix, what a handler sees and sends (Block2,
// options, payload), DTLS with pre-shared keys, duplicates, and failures.
#include "net/coap/coap_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <stdexcept>

#include "net/coap/testing/coap_client.h"

namespace updraft::net::coap {
namespace {

using testing::CoapClient;
using testing::Psk;
using testing::Reply;

std::vector<std::byte> bytes(std::string_view text) {
  const auto* first = reinterpret_cast<const std::byte*>(text.data());
  return std::vector<std::byte>(first, first + text.size());
}

std::string joined(const std::vector<std::string>& path) {
  std::string out;
  for (const std::string& segment : path) out += "/" + segment;
  return out;
}

// Echoes what the handler saw: "<route> <path> <payload> <identity>".
Handler echo(std::string route) {
  return [route](const Request& r) {
    Response response;
    response.code = r.method == Method::kPost ? Code::kChanged : Code::kContent;
    const std::string payload(reinterpret_cast<const char*>(r.payload.data()), r.payload.size());
    response.payload = bytes(route + " " + joined(r.path) + " " + payload + " " +
                             (r.identity ? *r.identity : std::string("-")));
    return response;
  };
}

class CoapServerTest : public ::testing::Test {
 protected:
  void start(CoapServerOptions options = {}) {
    if (!options.udp && !options.dtls) options.udp = Endpoint{};
    server_ = std::make_unique<CoapServer>(std::move(options));
    server_->handle(Method::kPost, "c", echo("checkin"));
    server_->handle(Method::kGet, "a", echo("artifact"));
    server_->handle(Method::kGet, "a/special", echo("special"));
    server_->handle(Method::kPost, "count", [this](const Request&) {
      ++calls_;
      return Response::error(Code::kChanged, std::to_string(calls_.load()));
    });
    server_->handle(Method::kGet, "blocks", [](const Request& r) {
      Response response;
      response.block2 = r.block2 ? *r.block2 : Block{0, false, 6};
      response.block2->more = response.block2->num < 3;
      response.payload.assign(response.block2->size(), std::byte{0x5a});
      response.options.push_back(
          Option{65004, {std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}}});
      response.options.push_back(Option{12, {std::byte{42}}});  // Content-Format, out of order
      return response;
    });
    server_->handle(Method::kGet, "throws",
                    [](const Request&) -> Response { throw std::runtime_error("broken handler"); });
    server_->handle(Method::kGet, "huge", [](const Request&) {
      Response response;
      response.payload.assign(4000, std::byte{1});
      return response;
    });
    ASSERT_TRUE(server_->start().ok());
  }
  std::unique_ptr<CoapClient> client(std::optional<Psk> psk = std::nullopt) {
    const std::uint16_t port = psk ? server_->dtls_port() : server_->udp_port();
    HostResult<std::unique_ptr<CoapClient>> c = CoapClient::connect("127.0.0.1", port, psk);
    EXPECT_TRUE(c.ok()) << c.error().to_string();
    return c.ok() ? std::move(*c) : nullptr;
  }
  static Reply ask(CoapClient& c, Method method, const std::string& path,
                   std::string_view payload = {}, std::optional<Block> block2 = std::nullopt) {
    const std::vector<std::byte> body = bytes(payload);
    HostResult<Reply> r = c.request(method, path, body, block2, std::chrono::seconds(5));
    EXPECT_TRUE(r.ok()) << path << ": " << r.error().to_string();
    return r.ok() ? *r : Reply{Code::kInternalServerError, {}, {}, {}};
  }
  static CoapServerOptions with_dtls() {
    CoapServerOptions options;
    options.udp = Endpoint{};
    options.dtls = Endpoint{};
    options.psk = [](std::string_view identity) -> std::optional<std::string> {
      if (identity == "meter-1") return std::string("key-of-meter-1");
      return std::nullopt;
    };
    return options;
  }

  std::unique_ptr<CoapServer> server_;
  std::atomic<int> calls_{0};
};

TEST_F(CoapServerTest, DispatchesByMethodAndLongestPrefix) {
  start();
  ASSERT_NE(server_->udp_port(), 0);
  EXPECT_EQ(server_->dtls_port(), 0);
  auto c = client();
  Reply r = ask(*c, Method::kPost, "c", "hello");
  EXPECT_EQ(r.code, Code::kChanged);
  EXPECT_EQ(r.text(), "checkin /c hello -");
  EXPECT_EQ(ask(*c, Method::kGet, "a/123").text(), "artifact /a/123  -");
  EXPECT_EQ(ask(*c, Method::kGet, "a/special/9").text(), "special /a/special/9  -");
  EXPECT_EQ(ask(*c, Method::kGet, "a").text(), "artifact /a  -");
  EXPECT_EQ(ask(*c, Method::kGet, "nothing/here").code, Code::kNotFound);
  EXPECT_EQ(ask(*c, Method::kGet, "ab").code, Code::kNotFound) << "prefixes match whole segments";
  EXPECT_EQ(ask(*c, Method::kGet, "c").code, Code::kMethodNotAllowed);
  EXPECT_EQ(ask(*c, Method::kDelete, "a/1").code, Code::kMethodNotAllowed);
}

TEST_F(CoapServerTest, HandlersSeeBlock2AndAnswerWithTheirOptionsInOrder) {
  start();
  auto c = client();
  for (std::uint8_t szx = 0; szx <= 6; ++szx) {
    for (std::uint32_t num : {0u, 3u}) {
      const Reply r = ask(*c, Method::kGet, "blocks", {}, Block{num, false, szx});
      ASSERT_EQ(r.code, Code::kContent);
      ASSERT_TRUE(r.block2);
      EXPECT_EQ(*r.block2, (Block{num, num < 3, szx}));
      EXPECT_EQ(r.payload.size(), std::size_t{16} << szx);
      ASSERT_EQ(r.options.count(65004), 1u);
      EXPECT_EQ(r.options.find(65004)->second,
                (std::vector<std::byte>{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}}));
      EXPECT_EQ(r.options.count(12), 1u);
    }
  }
  // A large block number takes the option's three bytes.
  const Reply far = ask(*c, Method::kGet, "blocks", {}, Block{kMaxBlockNum, false, 2});
  ASSERT_TRUE(far.block2);
  EXPECT_EQ(far.block2->num, kMaxBlockNum);
  // No Block2 asked: the handler chooses.
  const Reply whole = ask(*c, Method::kGet, "blocks");
  ASSERT_TRUE(whole.block2);
  EXPECT_EQ(whole.block2->szx, 6);
}

TEST_F(CoapServerTest, AThrowingHandlerOrAnAnswerTooLargeForOneMessageIs500) {
  std::vector<std::string> logged;
  std::mutex mutex;
  CoapServerOptions options;
  options.log = [&](std::string_view line) {
    std::lock_guard lock(mutex);
    logged.emplace_back(line);
  };
  start(std::move(options));
  auto c = client();
  EXPECT_EQ(ask(*c, Method::kGet, "throws").code, Code::kInternalServerError);
  EXPECT_EQ(ask(*c, Method::kGet, "huge").code, Code::kInternalServerError);
  EXPECT_EQ(ask(*c, Method::kPost, "c", "still").code, Code::kChanged) << "the server goes on";
  std::lock_guard lock(mutex);
  ASSERT_EQ(logged.size(), 2u);
  EXPECT_NE(logged[0].find("broken handler"), std::string::npos) << logged[0];
  EXPECT_NE(logged[1].find("does not fit"), std::string::npos) << logged[1];
}

TEST_F(CoapServerTest, DtlsNamesTheIdentityAndRefusesUnknownOnesAndWrongKeys) {
  start(with_dtls());
  ASSERT_NE(server_->dtls_port(), 0);
  ASSERT_NE(server_->udp_port(), server_->dtls_port());
  auto good = client(Psk{"meter-1", "key-of-meter-1"});
  EXPECT_EQ(ask(*good, Method::kPost, "c", "x").text(), "checkin /c x meter-1");
  EXPECT_EQ(ask(*good, Method::kGet, "a/5").text(), "artifact /a/5  meter-1");
  // Plain UDP beside it has no identity.
  EXPECT_EQ(ask(*client(), Method::kPost, "c", "y").text(), "checkin /c y -");
  // An unknown identity ends the handshake at once. A wrong key shows only in the
  // Finished message, which the server cannot decrypt and, as DTLS does, drops.
  const std::vector<std::byte> body = bytes("x");
  auto stranger = client(Psk{"meter-2", "key-of-meter-1"});
  HostResult<Reply> r =
      stranger->request(Method::kPost, "c", body, std::nullopt, std::chrono::seconds(5));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kTransportFailed);
  auto impostor = client(Psk{"meter-1", "another-key"});
  EXPECT_FALSE(
      impostor->request(Method::kPost, "c", body, std::nullopt, std::chrono::seconds(2)).ok());
}

// The raw bytes of a confirmable POST /count with message id `mid` and a one-byte token.
std::vector<std::uint8_t> post_count(std::uint16_t mid, std::uint8_t token) {
  return {0x41,
          0x02,
          static_cast<std::uint8_t>(mid >> 8),
          static_cast<std::uint8_t>(mid),
          token,
          0xb5,
          'c',
          'o',
          'u',
          'n',
          't'};
}

std::vector<std::uint8_t> exchange(int fd, const sockaddr_in& to,
                                   const std::vector<std::uint8_t>& datagram) {
  EXPECT_EQ(::sendto(fd, datagram.data(), datagram.size(), 0,
                     reinterpret_cast<const sockaddr*>(&to), sizeof to),
            static_cast<ssize_t>(datagram.size()));
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 5000) != 1) return {};
  std::vector<std::uint8_t> answer(2048);
  const ssize_t n = ::recv(fd, answer.data(), answer.size(), 0);
  answer.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return answer;
}

TEST_F(CoapServerTest, ADuplicateConfirmableRequestIsAnsweredAgainWithoutRunningTheHandler) {
  start();
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(server_->udp_port());
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const std::vector<std::uint8_t> first = exchange(fd, to, post_count(0x1234, 7));
  const std::vector<std::uint8_t> again = exchange(fd, to, post_count(0x1234, 7));
  ASSERT_GE(first.size(), 5u);
  EXPECT_EQ(first[0] >> 4, 0x6) << "a piggybacked ACK";
  EXPECT_EQ(first[1], static_cast<std::uint8_t>(Code::kChanged));
  EXPECT_EQ(first, again);
  EXPECT_EQ(calls_.load(), 1);
  // A new message id is a new request.
  const std::vector<std::uint8_t> next = exchange(fd, to, post_count(0x1235, 8));
  EXPECT_EQ(calls_.load(), 2);
  ASSERT_FALSE(next.empty());
  EXPECT_EQ(next.back(), '2');
  ::close(fd);
}

TEST_F(CoapServerTest, StartRefusesNoEndpointDtlsWithoutKeysAndAnAddressNotHere) {
  CoapServer none{CoapServerOptions{}};
  EXPECT_EQ(none.start().error().code, ErrorCode::kInvalidArgument);
  CoapServerOptions options;
  options.dtls = Endpoint{};
  CoapServer keyless{options};
  EXPECT_EQ(keyless.start().error().code, ErrorCode::kInvalidArgument);
  // (A port already taken would not do: libcoap binds with SO_REUSEADDR.)
  CoapServerOptions elsewhere;
  elsewhere.udp = Endpoint{"192.0.2.1", 0};  // TEST-NET-1, not this host's
  CoapServer unbindable{elsewhere};
  EXPECT_EQ(unbindable.start().error().code, ErrorCode::kTransportFailed);
}

TEST_F(CoapServerTest, StopsPromptlyAndTwice) {
  start(with_dtls());
  const auto before = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(1));
  server_->stop();
}

}  // namespace
}  // namespace updraft::net::coap
