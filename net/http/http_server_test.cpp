// HttpServer and HttpClient on real loopback sockets: the server listens on port 0,
// every wait is bounded.
#include "net/http/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "net/http/http_client.h"
#include "net/http/router.h"

namespace updraft::net::http {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A plain socket for what HttpClient would never send: chunked bodies, garbage,
// pipelined requests. Reads time out after 5 s.
class RawSocket {
 public:
  // From `source`, any 127/8 address: the server sees a client of that address.
  explicit RawSocket(std::uint16_t port, const char* source = "127.0.0.1") {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &local.sin_addr);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~RawSocket() { ::close(fd_); }

  bool connected() const { return connected_; }

  void send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // Everything until the server closes (or 5 s pass).
  std::string read_until_closed() {
    std::string all = std::move(pending_);
    pending_.clear();
    char chunk[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      all.append(chunk, static_cast<std::size_t>(n));
    }
    return all;
  }

  // True once the server has closed the connection (whatever it sent first is
  // dropped); false while it is open.
  bool closed_now() {
    char chunk[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
      if (n == 0) return true;
      if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
    }
  }

  // One response delimited by its content-length; "" on timeout or close.
  std::string read_response() {
    for (;;) {
      const std::size_t end = pending_.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::size_t length = 0;
        const std::size_t at = pending_.find("content-length: ");
        if (at != std::string::npos && at < end) length = std::stoul(pending_.substr(at + 16));
        if (pending_.size() >= end + 4 + length) {
          std::string response = pending_.substr(0, end + 4 + length);
          pending_.erase(0, end + 4 + length);
          return response;
        }
      }
      char chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return {};
      pending_.append(chunk, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string pending_;

 public:
  int fd() const { return fd_; }
};

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("updraft_http_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

std::string random_bytes(std::size_t size, unsigned seed) {
  std::mt19937 generator(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(generator());
  return bytes;
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

HttpServerOptions test_options() {
  HttpServerOptions options;
  options.threads = 2;
  return options;
}

nlohmann::json error_of(const ClientResponse& response) {
  return nlohmann::json::parse(response.body)["error"];
}

// Polls `condition` for up to `limit`.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

Router make_api_router() {
  Router router;
  router.add(Method::kGet, "/api/v1/devices/{id}", [](Request& request) {
    return Response::json(200, nlohmann::json{{"id", request.param("id")},
                                              {"q", request.query["q"]},
                                              {"remote", request.remote_address}}
                                   .dump());
  });
  router.add(Method::kPost, "/echo", [](Request& request) {
    return Response::text(200, request.body, std::string(request.header("content-type")));
  });
  router.add(Method::kGet, "/throw",
             [](Request&) -> Response { throw std::runtime_error("handler bug"); });
  return router;
}

TEST(HttpServerTest, RoutesWithPathParamsAndAnswersUnknownRoutesInTheErrorShape) {
  const Router router = make_api_router();
  HttpServer server(test_options(), router);
  ASSERT_TRUE(server.start().ok());
  HttpClient client("127.0.0.1", server.port());

  auto found = client.request(Method::kGet, "/api/v1/devices/dev%2042?q=a+b");
  ASSERT_TRUE(found.ok()) << found.error().to_string();
  EXPECT_EQ(found->status, 200);
  EXPECT_EQ(found->header("content-type"), "application/json");
  const auto body = nlohmann::json::parse(found->body);
  EXPECT_EQ(body["id"], "dev 42");
  EXPECT_EQ(body["q"], "a b");
  EXPECT_EQ(body["remote"], "127.0.0.1");

  auto missing = client.request(Method::kGet, "/api/v2/nothing");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(error_of(*missing)["code"], "NOT_FOUND");
  EXPECT_EQ(error_of(*missing)["number"], 703);

  auto wrong_method = client.request(Method::kPut, "/api/v1/devices/7", {}, "x");
  ASSERT_TRUE(wrong_method.ok());
  EXPECT_EQ(wrong_method->status, 405);
  EXPECT_EQ(error_of(*wrong_method)["code"], "METHOD_NOT_ALLOWED");
  EXPECT_EQ(wrong_method->header("allow"), "GET, HEAD");

  auto head = client.request(Method::kHead, "/api/v1/devices/7");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
  EXPECT_NE(head->header("content-length"), "0");
}

TEST(HttpServerTest, ServesManyRequestsOnOneKeepAliveConnection) {
  const Router router = make_api_router();
  HttpServer server(test_options(), router);
  ASSERT_TRUE(server.start().ok());
  HttpClient client("127.0.0.1", server.port());
  for (int i = 0; i < 200; ++i) {
    const std::string payload = "payload " + std::to_string(i);
    auto response =
        client.request(Method::kPost, "/echo", {{"content-type", "text/x-test"}}, payload);
    ASSERT_TRUE(response.ok()) << response.error().to_string();
    ASSERT_EQ(response->body, payload);
    EXPECT_EQ(response->header("content-type"), "text/x-test");
  }
  EXPECT_EQ(server.connection_count(), 1u);
}

TEST(HttpServerTest, AnswersPipelinedRequestsInOrder) {
  const Router router = make_api_router();
  HttpServer server(test_options(), router);
  ASSERT_TRUE(server.start().ok());
  RawSocket socket(server.port());
  ASSERT_TRUE(socket.connected());
  socket.send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfirst"
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nsecond");
  const std::string first = socket.read_response();
  const std::string second = socket.read_response();
  EXPECT_TRUE(first.ends_with("\r\n\r\nfirst")) << first;
  EXPECT_TRUE(second.ends_with("\r\n\r\nsecond")) << second;
}

TEST(HttpServerTest, Http10ClientGetsAnAnswerThenTheConnectionCloses) {
  const Router router = make_api_router();
  HttpServer server(test_options(), router);
  ASSERT_TRUE(server.start().ok());
  RawSocket socket(server.port());
  socket.send("GET /api/v1/devices/1 HTTP/1.0\r\n\r\n");
  const std::string answer = socket.read_until_closed();
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 OK\r\ndate: ")) << answer;
  EXPECT_NE(answer.find(" GMT\r\n"), std::string::npos) << answer;
  EXPECT_NE(answer.find("connection: close\r\n"), std::string::npos) << answer;
  EXPECT_TRUE(answer.ends_with("\"remote\":\"127.0.0.1\"}")) << answer;
}

TEST(HttpServerTest, AcceptsChunkedRequestBody) {
  const Router router = make_api_router();
  HttpServer server(test_options(), router);
  ASSERT_TRUE(server.start().ok());
  RawSocket socket(server.port());
  socket.send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n1;ext=1\r\n \r\nb\r\nchunked wor\r\n2\r\nld\r\n0\r\n\r\n");
  const std::string response = socket.read_response();
  EXPECT_TRUE(response.starts_with("HTTP/1.1 200 OK\r\n")) << response;
  EXPECT_TRUE(response.ends_with("\r\n\r\nhello chunked world")) << response;
}

TEST(HttpServerTest, RejectsBodyOverTheLimitWith413) {
  const Router router = make_api_router();
  HttpServerOptions options = test_options();
  options.max_body_bytes = 1024;
  HttpServer server(options, router);
  ASSERT_TRUE(server.start().ok());
  HttpClient client("127.0.0.1", server.port());

  auto fits = client.request(Method::kPost, "/echo", {}, std::string(1024, 'a'));
  ASSERT_TRUE(fits.ok());
  EXPECT_EQ(fits->status, 200);

  auto too_large = client.request(Method::kPost, "/echo", {}, std::string(4096, 'a'));
  ASSERT_TRUE(too_large.ok()) << too_large.error().to_string();
  EXPECT_EQ(too_large->status, 413);
  EXPECT_EQ(error_of(*too_large)["code"], "PAYLOAD_TOO_LARGE");
  EXPECT_EQ(too_large->header("connection"), "close");

  RawSocket chunked(server.port());
  chunked.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n" +
               std::string(1024, 'b') + "\r\n1\r\nc\r\n0\r\n\r\n");
  EXPECT_TRUE(chunked.read_until_closed().starts_with("HTTP/1.1 413 "));

  auto after = client.request(Method::kPost, "/echo", {}, "still serving");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->body, "still serving");
}

TEST(HttpServerTest, MalformedRequestGets400AndTheServerKeepsServing) {
  const Router router = make_api_router();
  HttpServer server(test_options(), router);
  ASSERT_TRUE(server.start().ok());
  for (const char* garbage :
       {"GARBAGE\r\n\r\n", "GET /x HTTP/1.1\r\nBad Header\r\n\r\n",
        "POST /echo HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    RawSocket socket(server.port());
    socket.send(garbage);
    const std::string answer = socket.read_until_closed();  // the server closes
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 400 Bad Request\r\n")) << garbage << answer;
    EXPECT_NE(answer.find("\"code\":\"BAD_REQUEST\""), std::string::npos) << answer;
  }
  RawSocket huge_header(server.port());
  huge_header.send("GET / HTTP/1.1\r\nX-Big: " + std::string(64 * 1024, 'h') + "\r\n\r\n");
  EXPECT_TRUE(huge_header.read_until_closed().starts_with("HTTP/1.1 431 "));

  HttpClient client("127.0.0.1", server.port());
  auto fine = client.request(Method::kGet, "/api/v1/devices/1");
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ(fine->status, 200);
}

TEST(HttpServerTest, HandlerThatThrowsGets500AndTheServerKeepsServing) {
  std::vector<std::string> logged;
  std::mutex log_mutex;
  const Router router = make_api_router();
  HttpServerOptions options = test_options();
  options.log = [&](std::string_view line) {
    std::lock_guard lock(log_mutex);
    logged.emplace_back(line);
  };
  HttpServer server(options, router);
  ASSERT_TRUE(server.start().ok());
  HttpClient client("127.0.0.1", server.port());
  for (int i = 0; i < 3; ++i) {
    auto failed = client.request(Method::kGet, "/throw");
    ASSERT_TRUE(failed.ok());
    EXPECT_EQ(failed->status, 500);
    EXPECT_EQ(error_of(*failed)["code"], "INTERNAL");
    EXPECT_EQ(error_of(*failed)["number"], 902);
    auto fine = client.request(Method::kGet, "/api/v1/devices/1");
    ASSERT_TRUE(fine.ok());
    EXPECT_EQ(fine->status, 200);
  }
  std::lock_guard lock(log_mutex);
  ASSERT_EQ(logged.size(), 3u);
  EXPECT_NE(logged[0].find("handler bug"), std::string::npos);
}

class FileServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    content_ = random_bytes(3 * 1024 * 1024 + 17, 42);
    path_ = dir_.path() / "image.bin";
    write_file(path_, content_);
    router_.add(Method::kGet, "/files/{name}", [this](Request& request) {
      return Response::file((dir_.path() / request.param("name")).string());
    });
  }

  TempDir dir_;
  std::string content_;
  fs::path path_;
  Router router_;
};

TEST_F(FileServerTest, DownloadsALargeFileIntact) {
  HttpServer server(test_options(), router_);
  ASSERT_TRUE(server.start().ok());
  HttpClient client("127.0.0.1", server.port());
  for (int round = 0; round < 2; ++round) {  // the second on the kept-alive connection
    auto whole = client.request(Method::kGet, "/files/image.bin");
    ASSERT_TRUE(whole.ok()) << whole.error().to_string();
    EXPECT_EQ(whole->status, 200);
    EXPECT_EQ(whole->header("accept-ranges"), "bytes");
    EXPECT_EQ(whole->header("content-type"), "application/octet-stream");
    EXPECT_FALSE(whole->header("etag").empty());
    EXPECT_TRUE(whole->body == content_);
  }

  std::string streamed;
  std::size_t chunks = 0;
  auto response = client.get_stream("/files/image.bin", {}, [&](std::string_view chunk) {
    streamed.append(chunk);
    ++chunks;
    return true;
  });
  ASSERT_TRUE(response.ok()) << response.error().to_string();
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(response->body.empty());
  EXPECT_GT(chunks, 1u);
  EXPECT_TRUE(streamed == content_);

  auto missing = client.request(Method::kGet, "/files/absent.bin");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(error_of(*missing)["code"], "NOT_FOUND");
}

TEST_F(FileServerTest, ClientsLeavingMidDownloadDoNotHurtTheServer) {
  HttpServer server(test_options(), router_);
  ASSERT_TRUE(server.start().ok());
  for (int i = 0; i < 5; ++i) {
    HttpClient quitter("127.0.0.1", server.port());
    auto cut = quitter.get_stream("/files/image.bin", {}, [](std::string_view) { return false; });
    ASSERT_TRUE(cut.ok()) << cut.error().to_string();
    RawSocket abrupt(server.port());
    abrupt.send("GET /files/image.bin HTTP/1.1\r\nHost: x\r\n\r\n");
  }  // each leaves with most of the file unsent
  ASSERT_TRUE(eventually([&] { return server.connection_count() == 0; }));
  HttpClient client("127.0.0.1", server.port());
  auto whole = client.request(Method::kGet, "/files/image.bin");
  ASSERT_TRUE(whole.ok()) << whole.error().to_string();
  EXPECT_TRUE(whole->body == content_);
}

TEST_F(FileServerTest, ServesByteRangesAndConditionalRequests) {
  HttpServer server(test_options(), router_);
  ASSERT_TRUE(server.start().ok());
  HttpClient client("127.0.0.1", server.port());
  const std::size_t size = content_.size();
  const auto get = [&](const std::string& range) {
    auto response = client.request(Method::kGet, "/files/image.bin", {{"range", range}});
    EXPECT_TRUE(response.ok());
    return std::move(response).value();
  };

  auto middle = get("bytes=100-199");
  EXPECT_EQ(middle.status, 206);
  EXPECT_EQ(middle.header("content-range"), "bytes 100-199/" + std::to_string(size));
  EXPECT_TRUE(middle.body == content_.substr(100, 100));

  auto open_ended = get("bytes=3000000-");
  EXPECT_EQ(open_ended.status, 206);
  EXPECT_TRUE(open_ended.body == content_.substr(3000000));

  auto suffix = get("bytes=-500");
  EXPECT_EQ(suffix.status, 206);
  EXPECT_TRUE(suffix.body == content_.substr(size - 500));

  auto clamped = get("bytes=" + std::to_string(size - 10) + "-" + std::to_string(size + 1000));
  EXPECT_EQ(clamped.status, 206);
  EXPECT_EQ(clamped.body.size(), 10u);

  auto beyond = get("bytes=" + std::to_string(size) + "-");
  EXPECT_EQ(beyond.status, 416);
  EXPECT_EQ(beyond.header("content-range"), "bytes */" + std::to_string(size));
  EXPECT_EQ(error_of(beyond)["code"], "RANGE_NOT_SATISFIABLE");

  auto several = get("bytes=0-1,5-6");  // multi-range: the whole file
  EXPECT_EQ(several.status, 200);
  EXPECT_EQ(several.body.size(), size);

  auto head = client.request(Method::kHead, "/files/image.bin", {{"range", "bytes=10-19"}});
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->status, 206);
  EXPECT_EQ(head->header("content-length"), "10");
  EXPECT_TRUE(head->body.empty());

  const std::string etag(middle.header("etag"));
  auto unchanged = client.request(Method::kGet, "/files/image.bin", {{"if-none-match", etag}});
  ASSERT_TRUE(unchanged.ok());
  EXPECT_EQ(unchanged->status, 304);
  EXPECT_TRUE(unchanged->body.empty());

  auto stale = client.request(Method::kGet, "/files/image.bin",
                              {{"range", "bytes=0-9"}, {"if-range", "\"other\""}});
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->status, 200);  // the range was for another version
  EXPECT_EQ(stale->body.size(), size);

  auto mismatch = client.request(Method::kGet, "/files/image.bin", {{"if-match", "\"other\""}});
  ASSERT_TRUE(mismatch.ok());
  EXPECT_EQ(mismatch->status, 412);

  // The connection survived all of the above.
  EXPECT_EQ(server.connection_count(), 1u);
}

// A self-signed certificate for "localhost" and 127.0.0.1, written as PEM files.
struct TlsFiles {
  std::string cert;
  std::string key;
};

TlsFiles make_self_signed_certificate(const fs::path& dir) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* san =
      X509V3_EXT_conf_nid(nullptr, &context, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
  X509_add_ext(cert, san, -1);
  X509_EXTENSION_free(san);
  X509_sign(cert, key, EVP_sha256());

  TlsFiles files{(dir / "cert.pem").string(), (dir / "key.pem").string()};
  FILE* out = std::fopen(files.cert.c_str(), "w");
  PEM_write_X509(out, cert);
  std::fclose(out);
  out = std::fopen(files.key.c_str(), "w");
  PEM_write_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(out);
  X509_free(cert);
  EVP_PKEY_free(key);
  return files;
}

TEST_F(FileServerTest, TlsRoundTripWithASelfSignedCertificate) {
  const TlsFiles tls = make_self_signed_certificate(dir_.path());
  router_.add(Method::kPost, "/echo",
              [](Request& request) { return Response::text(200, request.body); });
  HttpServerOptions options = test_options();
  options.tls_cert_path = tls.cert;
  options.tls_key_path = tls.key;
  HttpServer server(options, router_);
  const auto started = server.start();
  ASSERT_TRUE(started.ok()) << started.error().to_string();

  HttpClientOptions client_options;
  client_options.tls = true;
  client_options.ca_file = tls.cert;
  HttpClient client("localhost", server.port(), client_options);
  auto echoed = client.request(Method::kPost, "/echo", {}, "over tls");
  ASSERT_TRUE(echoed.ok()) << echoed.error().to_string();
  EXPECT_EQ(echoed->body, "over tls");
  auto whole = client.request(Method::kGet, "/files/image.bin");
  ASSERT_TRUE(whole.ok()) << whole.error().to_string();
  EXPECT_TRUE(whole->body == content_);
  auto range = client.request(Method::kGet, "/files/image.bin", {{"range", "bytes=-1000"}});
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->status, 206);
  EXPECT_TRUE(range->body == content_.substr(content_.size() - 1000));
  EXPECT_EQ(server.connection_count(), 1u);

  // A client that does not trust the certificate fails the handshake.
  HttpClientOptions untrusting;
  untrusting.tls = true;
  untrusting.ca_file = (dir_.path() / "image.bin").string();
  HttpClient stranger("localhost", server.port(), untrusting);
  auto refused = stranger.request(Method::kGet, "/files/image.bin");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kTransportFailed);

  // Plain HTTP on the TLS port is not a crash either.
  HttpClient plain("127.0.0.1", server.port());
  EXPECT_FALSE(plain.request(Method::kGet, "/files/image.bin").ok());
  auto still = client.request(Method::kPost, "/echo", {}, "again");
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->body, "again");
}

// Holds the sink a handler received, for the test thread to use.
struct SinkSlot {
  std::mutex mutex;
  std::condition_variable ready;
  std::shared_ptr<EventSink> sink;

  void put(std::shared_ptr<EventSink> value) {
    std::lock_guard lock(mutex);
    sink = std::move(value);
    ready.notify_all();
  }
  std::shared_ptr<EventSink> wait() {
    std::unique_lock lock(mutex);
    ready.wait_for(lock, 5s, [&] { return sink != nullptr; });
    return sink;
  }
};

Response event_stream_into(SinkSlot& slot) {
  Response response;
  response.event_stream = [&slot](std::shared_ptr<EventSink> sink) { slot.put(std::move(sink)); };
  return response;
}

TEST(HttpServerTest, EventStreamDeliversEventsSentFromAnotherThread) {
  SinkSlot slot;
  Router router;
  router.add(Method::kGet, "/events", [&](Request&) { return event_stream_into(slot); });
  HttpServer server(test_options(), router);
  ASSERT_TRUE(server.start().ok());

  std::string received;
  HostResult<ClientResponse> result = Error(ErrorCode::kInternal);
  std::thread reader([&] {
    HttpClient client("127.0.0.1", server.port());
    result = client.get_stream("/events", {}, [&](std::string_view chunk) {
      received.append(chunk);
      return received.find("event: done") == std::string::npos;
    });
  });
  const std::shared_ptr<EventSink> sink = slot.wait();
  ASSERT_NE(sink, nullptr);
  EXPECT_FALSE(sink->closed());
  std::thread([&] {
    EXPECT_TRUE(sink->send("progress", "{\"percent\":50}"));
    EXPECT_TRUE(sink->send("done", "line one\nline two"));
  }).join();
  reader.join();

  ASSERT_TRUE(result.ok()) << result.error().to_string();
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->header("content-type"), "text/event-stream");
  EXPECT_EQ(result->header("cache-control"), "no-cache");
  EXPECT_EQ(received,
            "event: progress\ndata: {\"percent\":50}\n\n"
            "event: done\ndata: line one\ndata: line two\n\n");

  // The client dropped the connection when it returned false.
  EXPECT_TRUE(eventually([&] { return sink->closed(); }));
  EXPECT_FALSE(sink->send("late", "nobody listens"));
  EXPECT_TRUE(eventually([&] { return server.connection_count() == 0; }));
}

TEST(HttpServerTest, EventStreamSendsHeartbeatsWhileIdle) {
  SinkSlot slot;
  Router router;
  router.add(Method::kGet, "/events", [&](Request&) { return event_stream_into(slot); });
  HttpServerOptions options = test_options();
  options.sse_heartbeat = 50ms;
  HttpServer server(options, router);
  ASSERT_TRUE(server.start().ok());
  HttpClient client("127.0.0.1", server.port());
  std::string received;
  auto result = client.get_stream("/events", {}, [&](std::string_view chunk) {
    received.append(chunk);
    return received.find(": heartbeat\n\n: heartbeat\n\n") == std::string::npos;
  });
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  EXPECT_EQ(received, ": heartbeat\n\n: heartbeat\n\n");
}

TEST(HttpServerTest, GracefulStopFinishesInFlightRequestAndClosesIdleConnections) {
  // Once, under a loaded full test run, this test hung (not reproduced since, in
  // 70 runs under load): end it within a minute instead of ctest's 15.
  ::alarm(60);
  SinkSlot slot;
  std::atomic<bool> slow_started{false};
  Router router;
  router.add(Method::kGet, "/slow", [&](Request&) {
    slow_started = true;
    std::this_thread::sleep_for(300ms);
    return Response::text(200, "finished");
  });
  router.add(Method::kGet, "/fast", [](Request&) { return Response::text(200, "fast"); });
  router.add(Method::kGet, "/events", [&](Request&) { return event_stream_into(slot); });
  auto server = std::make_unique<HttpServer>(test_options(), router);
  ASSERT_TRUE(server->start().ok());
  const std::uint16_t port = server->port();

  HttpClient idle("127.0.0.1", port);  // a kept-alive connection with nothing in flight
  ASSERT_TRUE(idle.request(Method::kGet, "/fast").ok());

  HostResult<ClientResponse> events = Error(ErrorCode::kInternal);
  std::thread listener([&] {
    HttpClient client("127.0.0.1", port);
    events = client.get_stream("/events", {}, [](std::string_view) { return true; });
  });
  HostResult<ClientResponse> slow = Error(ErrorCode::kInternal);
  std::thread requester([&] {
    HttpClient client("127.0.0.1", port);
    slow = client.request(Method::kGet, "/slow");
  });
  const std::shared_ptr<EventSink> sink = slot.wait();
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(eventually([&] { return slow_started.load(); }));

  const auto before = std::chrono::steady_clock::now();
  server->stop(10s);
  const auto took = std::chrono::steady_clock::now() - before;
  EXPECT_LT(took, 5s);  // nothing waited for the idle or streaming connections
  requester.join();
  listener.join();
  ASSERT_TRUE(slow.ok()) << slow.error().to_string();
  EXPECT_EQ(slow->status, 200);
  EXPECT_EQ(slow->body, "finished");
  EXPECT_EQ(slow->header("connection"), "close");
  EXPECT_TRUE(events.ok());
  EXPECT_TRUE(sink->closed());
  EXPECT_EQ(server->connection_count(), 0u);

  RawSocket refused(port);  // no longer listening
  EXPECT_FALSE(refused.connected());
  server.reset();
  ::alarm(0);
}

TEST(HttpServerTest, StopClosesAConnectionThatOutlivesTheGracePeriod) {
  std::atomic<bool> started{false};
  Router router;
  router.add(Method::kGet, "/slow", [&](Request&) {
    started = true;
    std::this_thread::sleep_for(400ms);
    return Response::text(200, "late");
  });
  HttpServer server(test_options(), router);
  ASSERT_TRUE(server.start().ok());
  std::thread requester([&] {
    HttpClient client("127.0.0.1", server.port());
    (void)client.request(Method::kGet, "/slow");
  });
  ASSERT_TRUE(eventually([&] { return started.load(); }));
  const auto before = std::chrono::steady_clock::now();
  server.stop(50ms);
  EXPECT_LT(std::chrono::steady_clock::now() - before, 3s);
  requester.join();
  EXPECT_EQ(server.connection_count(), 0u);
}

TEST(HttpServerTest, Serves200ConcurrentConnections) {
  const Router router = make_api_router();
  HttpServer server(test_options(), router);
  ASSERT_TRUE(server.start().ok());
  constexpr int kClients = 200;
  constexpr int kRequestsEach = 5;
  std::atomic<int> succeeded{0};
  std::atomic<std::size_t> peak{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      HttpClientOptions options;
      options.timeout = 20s;
      HttpClient client("127.0.0.1", server.port(), options);
      for (int r = 0; r < kRequestsEach; ++r) {
        const std::string payload = std::to_string(c) + "/" + std::to_string(r);
        auto response = client.request(Method::kPost, "/echo", {}, payload);
        if (response.ok() && response->status == 200 && response->body == payload) ++succeeded;
        std::size_t now = server.connection_count();
        std::size_t seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
      }
    });
  }
  for (auto& thread : clients) thread.join();
  EXPECT_EQ(succeeded.load(), kClients * kRequestsEach);
  EXPECT_GT(peak.load(), 1u);
}

TEST(HttpClientTest, ReconnectsAfterTheServerClosedAnIdleConnection) {
  const Router router = make_api_router();
  HttpServerOptions options = test_options();
  options.idle_timeout = 100ms;
  HttpServer server(options, router);
  ASSERT_TRUE(server.start().ok());
  HttpClient client("127.0.0.1", server.port());
  ASSERT_TRUE(client.request(Method::kGet, "/api/v1/devices/1").ok());
  ASSERT_TRUE(eventually([&] { return server.connection_count() == 0; }));
  auto again = client.request(Method::kPost, "/echo", {}, "after reconnect");
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_EQ(again->body, "after reconnect");
}

TEST(HttpClientTest, ReportsTimeoutAndRefusedConnection) {
  Router router;
  router.add(Method::kGet, "/slow", [](Request&) {
    std::this_thread::sleep_for(500ms);
    return Response::text(200, "late");
  });
  HttpServer server(test_options(), router);
  ASSERT_TRUE(server.start().ok());
  HttpClientOptions options;
  options.timeout = 100ms;
  HttpClient client("127.0.0.1", server.port(), options);
  auto slow = client.request(Method::kGet, "/slow");
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.error().code, ErrorCode::kTransportTimeout);

  const std::uint16_t port = server.port();
  server.stop();
  HttpClient nobody("127.0.0.1", port, options);
  auto refused = nobody.request(Method::kGet, "/");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kTransportFailed);
  EXPECT_NE(refused.error().message.find("127.0.0.1"), std::string::npos);
}

// A route whose admission wants an "authorization" header and lets 1 MiB bodies
// in; /echo keeps the server's limit.
Router make_guarded_router(std::atomic<int>& handled) {
  Router router = make_api_router();
  router.add(
      Method::kPost, "/guarded/{id}",
      [&handled](Request& request) {
        ++handled;
        return Response::text(200, request.param("id") + ":" + std::to_string(request.body.size()));
      },
      [](Request& request) {
        Admission admission;
        if (request.header("authorization").empty()) {
          admission.refusal = Response::error(401, ErrorCode::kApiUnauthorized, "no token");
        }
        if (request.param("id") == "forbidden") {
          admission.refusal = Response::error(403, ErrorCode::kApiForbidden, "not yours");
        }
        admission.max_body_bytes = 1024 * 1024;
        return admission;
      });
  return router;
}

TEST(HttpServerTest, AdmissionRefusesOnTheHeaderWithoutReadingTheBody) {
  std::atomic<int> handled{0};
  const Router router = make_guarded_router(handled);
  HttpServer server(test_options(), router);
  ASSERT_TRUE(server.start().ok());

  // A gigabyte declared, 64 KiB sent: the answer comes without the rest.
  RawSocket socket(server.port());
  const auto start = std::chrono::steady_clock::now();
  socket.send("POST /guarded/7 HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n" +
              std::string(64 * 1024, 'a'));
  const std::string refused = socket.read_response();
  EXPECT_TRUE(refused.starts_with("HTTP/1.1 401 ")) << refused;
  EXPECT_NE(refused.find("connection: close\r\n"), std::string::npos) << refused;
  EXPECT_NE(refused.find("\"code\":\"UNAUTHORIZED\""), std::string::npos) << refused;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_TRUE(eventually([&] { return socket.closed_now(); }, 4s));

  // Expect: 100-continue is never answered "continue" for a refused request.
  RawSocket polite(server.port());
  polite.send(
      "POST /guarded/forbidden HTTP/1.1\r\nHost: x\r\nAuthorization: t\r\n"
      "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  EXPECT_TRUE(polite.read_response().starts_with("HTTP/1.1 403 "));
  EXPECT_EQ(handled.load(), 0);

  // HttpClient, refused while it still sends 32 MiB, reports the answer, not the reset.
  HttpClient client("127.0.0.1", server.port());
  auto early = client.request(Method::kPost, "/guarded/7", {}, std::string(32 * 1024 * 1024, 'c'));
  ASSERT_TRUE(early.ok()) << early.error().to_string();
  EXPECT_EQ(early->status, 401);
  EXPECT_EQ(error_of(*early)["code"], "UNAUTHORIZED");

  // Admitted: the route's own limit (1 MiB), above the server's default (64 KiB).
  auto admitted = client.request(Method::kPost, "/guarded/7", {{"authorization", "t"}},
                                 std::string(512 * 1024, 'b'));
  ASSERT_TRUE(admitted.ok()) << admitted.error().to_string();
  EXPECT_EQ(admitted->body, "7:524288");
  EXPECT_EQ(handled.load(), 1);
  // A request without a body is not held up by admission: the handler decides.
  auto bodyless = client.request(Method::kGet, "/api/v1/devices/1");
  ASSERT_TRUE(bodyless.ok());
  EXPECT_EQ(bodyless->status, 200);
}

TEST(HttpServerTest, EachRouteHasItsOwnBodyLimit) {
  std::atomic<int> handled{0};
  const Router router = make_guarded_router(handled);
  HttpServerOptions options = test_options();
  options.max_body_bytes = 1024;
  HttpServer server(options, router);
  ASSERT_TRUE(server.start().ok());
  HttpClient client("127.0.0.1", server.port());

  auto small_route = client.request(Method::kPost, "/echo", {}, std::string(4096, 'a'));
  ASSERT_TRUE(small_route.ok());
  EXPECT_EQ(small_route->status, 413);
  auto large_route =
      client.request(Method::kPost, "/guarded/1", {{"authorization", "t"}}, std::string(4096, 'a'));
  ASSERT_TRUE(large_route.ok());
  EXPECT_EQ(large_route->status, 200);

  // Over the route's limit: decided from Content-Length, before the body...
  RawSocket declared(server.port());
  declared.send(
      "POST /guarded/1 HTTP/1.1\r\nHost: x\r\nAuthorization: t\r\nContent-Length: 2097152\r\n"
      "\r\n");
  const std::string too_large = declared.read_response();
  EXPECT_TRUE(too_large.starts_with("HTTP/1.1 413 ")) << too_large;
  EXPECT_NE(too_large.find("PAYLOAD_TOO_LARGE"), std::string::npos);
  // ...or while reading a chunked one.
  RawSocket chunked(server.port());
  chunked.send(
      "POST /guarded/1 HTTP/1.1\r\nHost: x\r\nAuthorization: t\r\n"
      "Transfer-Encoding: chunked\r\n\r\n");
  const std::string chunk = "10000\r\n" + std::string(64 * 1024, 'c') + "\r\n";
  for (int i = 0; i < 17; ++i) chunked.send(chunk);
  EXPECT_TRUE(chunked.read_response().starts_with("HTTP/1.1 413 "));
  EXPECT_EQ(handled.load(), 1);
}

TEST(HttpServerTest, BodiesARouteWantsOnDiskStreamToAFileHashedOnTheWay) {
  TempDir dir;
  std::string seen_path;
  Router router;
  router.add(
      Method::kPost, "/upload/{mode}",
      [&](Request& request) {
        if (!request.body_file || !request.body.empty()) return Response::empty(500);
        seen_path = request.body_file->path;
        std::ifstream in(seen_path, std::ios::binary);
        const std::string stored{std::istreambuf_iterator<char>(in),
                                 std::istreambuf_iterator<char>()};
        if (request.param("mode") == "keep") fs::rename(seen_path, dir.path() / "kept");
        return Response::json(200, nlohmann::json{{"size", request.body_file->size},
                                                  {"sha256", request.body_file->sha256},
                                                  {"intact", stored.size()}}
                                       .dump());
      },
      [](Request&) {
        Admission admission;
        admission.body_to_file = true;
        admission.max_body_bytes = 64 * 1024 * 1024;
        return admission;
      });
  HttpServerOptions options = test_options();
  options.max_body_bytes = 1024;
  options.body_file_dir = (dir.path() / "incoming").string();
  fs::create_directories(options.body_file_dir);
  HttpServer server(options, router);
  ASSERT_TRUE(server.start().ok());
  HttpClient client("127.0.0.1", server.port());

  const std::string image = random_bytes(5 * 1024 * 1024 + 3, 9);
  unsigned char digest[32];
  unsigned int digest_size = 0;
  EVP_Digest(image.data(), image.size(), digest, &digest_size, EVP_sha256(), nullptr);
  std::string expected_hash;
  for (unsigned i = 0; i < digest_size; ++i) {
    char hex[3];
    std::snprintf(hex, sizeof hex, "%02x", digest[i]);
    expected_hash += hex;
  }
  for (const char* mode : {"drop", "keep"}) {
    auto response = client.request(Method::kPost, std::string("/upload/") + mode, {}, image);
    ASSERT_TRUE(response.ok()) << response.error().to_string();
    ASSERT_EQ(response->status, 200) << response->body;
    const auto body = nlohmann::json::parse(response->body);
    EXPECT_EQ(body["size"], image.size());
    EXPECT_EQ(body["intact"], image.size());
    EXPECT_EQ(body["sha256"], expected_hash);
    EXPECT_EQ(fs::path(seen_path).parent_path(), options.body_file_dir);
    // Deleted once answered, unless the handler moved it away.
    EXPECT_TRUE(eventually([&] { return !fs::exists(seen_path); }));
  }
  EXPECT_EQ(fs::file_size(dir.path() / "kept"), image.size());
  EXPECT_TRUE(fs::is_empty(options.body_file_dir));

  // A client that leaves mid-body leaves no file behind.
  {
    RawSocket leaving(server.port());
    leaving.send("POST /upload/drop HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" +
                 std::string(1000, 'x'));
    ASSERT_TRUE(eventually([&] { return !fs::is_empty(options.body_file_dir); }));
  }
  EXPECT_TRUE(eventually([&] { return fs::is_empty(options.body_file_dir); }));
}

TEST(HttpServerTest, AHeaderMustArriveWithinTheHeaderTimeout) {
  const Router router = make_api_router();
  HttpServerOptions options = test_options();
  options.header_timeout = 300ms;
  HttpServer server(options, router);
  ASSERT_TRUE(server.start().ok());

  // A header trickled in (slowloris) is answered 408 and closed.
  RawSocket slow(server.port());
  const auto start = std::chrono::steady_clock::now();
  slow.send("GET /api/v1/devices/1 HTTP/1.1\r\n");
  std::string answer;
  for (int i = 0; i < 40 && answer.empty(); ++i) {
    slow.send("X-Slow: y\r\n");
    std::this_thread::sleep_for(50ms);
    pollfd ready{slow.fd(), POLLIN, 0};
    if (::poll(&ready, 1, 0) > 0) answer = slow.read_until_closed();
  }
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 408 ")) << answer;
  EXPECT_NE(answer.find("TRANSPORT_TIMEOUT"), std::string::npos) << answer;
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 1500ms);

  // A connection that sends nothing is closed as well, without an answer.
  RawSocket silent(server.port());
  EXPECT_EQ(silent.read_until_closed(), "");

  // Between requests a keep-alive connection is idle, not slow: it outlives the
  // header timeout.
  HttpClient client("127.0.0.1", server.port());
  ASSERT_TRUE(client.request(Method::kGet, "/api/v1/devices/1").ok());
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(server.connection_count(), 1u);
  auto again = client.request(Method::kGet, "/api/v1/devices/2");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 200);
}

TEST(HttpServerTest, ABodyThatKeepsMovingIsNeverCutOneThatStallsIs) {
  const Router router = make_api_router();
  HttpServerOptions options = test_options();
  options.idle_timeout = 200ms;
  HttpServer server(options, router);
  ASSERT_TRUE(server.start().ok());

  // A second of body, 20 pieces 50 ms apart: five times the timeout, never idle for it.
  RawSocket moving(server.port());
  moving.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n");
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(50ms);
    moving.send("m");
  }
  EXPECT_TRUE(moving.read_response().ends_with("\r\n\r\nmmmmmmmmmmmmmmmmmmmm"));

  // The same body stalling after 5 bytes: answered 408 and closed.
  RawSocket stalled(server.port());
  stalled.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\nsssss");
  const auto start = std::chrono::steady_clock::now();
  const std::string answer = stalled.read_until_closed();
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 408 ")) << answer;
  EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
}

TEST(HttpServerTest, ConnectionCapsCloseTheLongestWaitingAndRefuseWhenAllAreBusy) {
  const Router router = make_api_router();
  HttpServerOptions options = test_options();
  options.max_connections = 4;
  options.max_connections_per_ip = 2;
  HttpServer server(options, router);
  ASSERT_TRUE(server.start().ok());
  EXPECT_EQ(server.max_connections(), 4u);
  EXPECT_EQ(server.max_connections_per_ip(), 2u);
  const auto count_is = [&](std::size_t n) {
    return eventually([&] { return server.connection_count() == n; });
  };

  // Over its address's share: that address's longest-waiting connection goes.
  RawSocket a1(server.port(), "127.0.0.2");
  ASSERT_TRUE(count_is(1));
  RawSocket a2(server.port(), "127.0.0.2");
  ASSERT_TRUE(count_is(2));
  RawSocket a3(server.port(), "127.0.0.2");
  EXPECT_TRUE(eventually([&] { return a1.closed_now(); }));
  EXPECT_FALSE(a2.closed_now());

  // Over the server's cap: the longest-waiting connection of any address goes.
  RawSocket b1(server.port(), "127.0.0.3");
  ASSERT_TRUE(count_is(3));
  RawSocket b2(server.port(), "127.0.0.3");
  ASSERT_TRUE(count_is(4));
  RawSocket c1(server.port(), "127.0.0.4");
  EXPECT_TRUE(eventually([&] { return a2.closed_now(); }));
  EXPECT_FALSE(a3.closed_now());
  EXPECT_TRUE(count_is(4));

  // An address whose connections are all busy gets no more: 503 at once.
  RawSocket d1(server.port(), "127.0.0.5");
  RawSocket d2(server.port(), "127.0.0.5");
  for (RawSocket* busy : {&d1, &d2}) {
    busy->send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhalf");
  }
  std::this_thread::sleep_for(100ms);
  RawSocket d3(server.port(), "127.0.0.5");
  const std::string refused = d3.read_until_closed();
  EXPECT_TRUE(refused.starts_with("HTTP/1.1 503 ")) << refused;
  EXPECT_NE(refused.find("\"code\":\"UNAVAILABLE\""), std::string::npos) << refused;
  // The busy ones were not touched, and finish.
  d1.send("-done!");
  EXPECT_TRUE(d1.read_response().ends_with("half-done!"));

  // Another client still gets in, and is served.
  HttpClient client("127.0.0.1", server.port());
  auto served = client.request(Method::kGet, "/api/v1/devices/1");
  ASSERT_TRUE(served.ok()) << served.error().to_string();
  EXPECT_EQ(served->status, 200);
}

TEST(HttpServerTest, StartFailsWhenThePortIsTakenOrTlsFilesAreMissing) {
  const Router router = make_api_router();
  HttpServer first(test_options(), router);
  ASSERT_TRUE(first.start().ok());
  HttpServerOptions same_port = test_options();
  same_port.port = first.port();
  HttpServer second(same_port, router);
  const auto taken = second.start();
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().code, ErrorCode::kTransportFailed);

  HttpServerOptions bad_tls = test_options();
  bad_tls.tls_cert_path = "/nonexistent/cert.pem";
  bad_tls.tls_key_path = "/nonexistent/key.pem";
  HttpServer third(bad_tls, router);
  const auto missing = third.start();
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("cert.pem"), std::string::npos);
}

}  // namespace
}  // namespace updraft::net::http
