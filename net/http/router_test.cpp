#include "net/http/router.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "net/http/message.h"

namespace updraft::net::http {
namespace {

Request make_request(Method method, std::string target) {
  Request request;
  request.method = method;
  request.target = std::move(target);
  parse_target(request);
  return request;
}

Response echo_params(Request& request) {
  std::string text;
  for (const auto& [name, value] : request.path_params) text += name + "=" + value + ";";
  return Response::text(200, text);
}

Router make_router() {
  Router router;
  router.add(Method::kGet, "/api/v1/devices/{id}/tags", echo_params);
  router.add(Method::kPost, "/api/v1/devices/{id}/tags",
             [](Request&) { return Response::empty(204); });
  router.add(Method::kGet, "/api/v1/devices", [](Request&) { return Response::json(200, "[]"); });
  router.add(Method::kGet, "/files/{name}", echo_params);
  router.add(Method::kGet, "/", [](Request&) { return Response::text(200, "root"); });
  return router;
}

void expect_error_shape(const Response& response, int status, std::string_view code, int number) {
  EXPECT_EQ(response.status, status);
  EXPECT_EQ(response.headers.at("content-type"), "application/json");
  const auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["error"]["code"], code);
  EXPECT_EQ(body["error"]["number"], number);
  EXPECT_TRUE(body["error"]["message"].is_string());
}

TEST(RouterTest, MatchesLiteralsAndCapturesDecodedSegments) {
  const Router router = make_router();
  Request request = make_request(Method::kGet, "/api/v1/devices/dev%2D7/tags?x=1");
  const Response response = router.dispatch(request);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "id=dev-7;");
  EXPECT_EQ(request.param("id"), "dev-7");
  EXPECT_EQ(request.param("missing"), "");

  Request root = make_request(Method::kGet, "/");
  EXPECT_EQ(router.dispatch(root).body, "root");
  Request post = make_request(Method::kPost, "/api/v1/devices/a/tags");
  EXPECT_EQ(router.dispatch(post).status, 204);
}

TEST(RouterTest, UnknownPathIsNotFoundInTheErrorShape) {
  const Router router = make_router();
  for (const char* target : {"/nope", "/api/v1/devices/a", "/api/v1/devices/a/tags/b",
                             "/api/v1/devices//tags", "/api/v1/devices/"}) {
    Request request = make_request(Method::kGet, target);
    expect_error_shape(router.dispatch(request), 404, "NOT_FOUND", 703);
  }
}

TEST(RouterTest, KnownPathWithOtherMethodIsMethodNotAllowed) {
  const Router router = make_router();
  Request request = make_request(Method::kDelete, "/api/v1/devices/a/tags");
  const Response response = router.dispatch(request);
  expect_error_shape(response, 405, "METHOD_NOT_ALLOWED", 707);
  EXPECT_EQ(response.headers.at("allow"), "GET, HEAD, POST");
}

TEST(RouterTest, HeadFallsBackToGet) {
  const Router router = make_router();
  Request request = make_request(Method::kHead, "/api/v1/devices");
  EXPECT_EQ(router.dispatch(request).status, 200);
}

TEST(RouterTest, CaptureNeverYieldsAPathWalk) {
  const Router router = make_router();
  for (const char* target :
       {"/files/..", "/files/%2e%2e", "/files/a%2Fb", "/files/a%00b", "/files/."}) {
    Request request = make_request(Method::kGet, target);
    EXPECT_EQ(router.dispatch(request).status, 404) << target;
  }
  Request fine = make_request(Method::kGet, "/files/a%20b.bin");
  EXPECT_EQ(router.dispatch(fine).body, "name=a b.bin;");
}

TEST(RouterTest, AdmitRunsTheMatchingRoutesCheckWithItsPathParameters) {
  Router router = make_router();
  router.add(
      Method::kPut, "/uploads/{name}", [](Request&) { return Response::empty(204); },
      [](Request& request) {
        Admission admission;
        if (request.param("name") == "secret") {
          admission.refusal = Response::error(403, ErrorCode::kApiForbidden, "not yours");
        }
        admission.max_body_bytes = 1 << 20;
        admission.body_to_file = true;
        return admission;
      });
  router.add(
      Method::kPost, "/plain", [](Request&) { return Response::empty(204); },
      [](Request&) { return Admission{}; });

  Request upload = make_request(Method::kPut, "/uploads/image.bin");
  const Admission admitted = router.admit(upload);
  EXPECT_FALSE(admitted.refusal);
  EXPECT_EQ(admitted.max_body_bytes, 1u << 20);
  EXPECT_TRUE(admitted.body_to_file);
  Request secret = make_request(Method::kPut, "/uploads/secret");
  ASSERT_TRUE(router.admit(secret).refusal);
  EXPECT_EQ(router.admit(secret).refusal->status, 403);
  // No route, no check, or another method's route: the server's own limits.
  for (const auto& [method, target] : std::vector<std::pair<Method, std::string>>{
           {Method::kPost, "/nope"}, {Method::kPost, "/uploads/x"}, {Method::kPost, "/plain"}}) {
    Request request = make_request(method, target);
    const Admission plain = router.admit(request);
    EXPECT_FALSE(plain.refusal) << target;
    EXPECT_EQ(plain.max_body_bytes, 0u) << target;
    EXPECT_FALSE(plain.body_to_file) << target;
  }
}

TEST(MessageTest, ParsesTargetIntoDecodedPathAndQuery) {
  Request request = make_request(Method::kGet, "/a%20b/c?x=1&y=hello+world&z&x=2&e=%3D%26");
  EXPECT_EQ(request.path, "/a b/c");
  EXPECT_EQ(request.query.at("x"), "1");  // the first value wins
  EXPECT_EQ(request.query.at("y"), "hello world");
  EXPECT_EQ(request.query.at("z"), "");
  EXPECT_EQ(request.query.at("e"), "=&");
  EXPECT_EQ(percent_decode("100%"), "100%");
  EXPECT_EQ(percent_decode("%zz%4"), "%zz%4");
  EXPECT_EQ(percent_decode("a+b"), "a+b");
}

TEST(MessageTest, ErrorShapeEscapesTheMessage) {
  const Response response =
      Response::error(400, ErrorCode::kPatchTruncated, "bad \"quote\"\n\xff end");
  const auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["error"]["code"], "PATCH_TRUNCATED");
  EXPECT_EQ(body["error"]["number"], 101);
  EXPECT_EQ(body["error"]["message"].get<std::string>().substr(0, 12), "bad \"quote\"\n");
}

TEST(MessageTest, HeaderLookupAndMethodNames) {
  Request request;
  request.headers.emplace("content-type", "text/plain");
  EXPECT_EQ(request.header("content-type"), "text/plain");
  EXPECT_EQ(request.header("accept"), "");
  for (Method method : {Method::kGet, Method::kHead, Method::kPost, Method::kPut, Method::kPatch,
                        Method::kDelete, Method::kOptions}) {
    EXPECT_EQ(parse_method(method_name(method)), method);
  }
  EXPECT_EQ(parse_method("BREW"), Method::kOther);
}

}  // namespace
}  // namespace updraft::net::http
