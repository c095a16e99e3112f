#include "net/http/message.h"

#include <nlohmann/json.hpp>
#include <utility>

namespace updraft::net::http {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string_view Request::header(std::string_view name) const {
  const auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string_view() : std::string_view(it->second);
}

const std::string& Request::param(const std::string& name) const {
  static const std::string kEmpty;
  const auto it = path_params.find(name);
  return it == path_params.end() ? kEmpty : it->second;
}

Response Response::json(int status, std::string body) {
  Response response;
  response.status = status;
  response.headers.emplace("content-type", "application/json");
  response.body = std::move(body);
  return response;
}

Response Response::text(int status, std::string body, std::string content_type) {
  Response response;
  response.status = status;
  response.headers.emplace("content-type", std::move(content_type));
  response.body = std::move(body);
  return response;
}

Response Response::empty(int status) {
  Response response;
  response.status = status;
  return response;
}

Response Response::error(int status, ErrorCode code, std::string_view message) {
  const nlohmann::json body = {
      {"error",
       {{"code", error_name(code)}, {"number", error_number(code)}, {"message", message}}}};
  // A message may quote client input that is not UTF-8; replace rather than throw.
  return json(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Response Response::file(std::string path, std::string content_type) {
  Response response;
  response.headers.emplace("content-type", std::move(content_type));
  response.file_path = std::move(path);
  return response;
}

std::string_view method_name(Method method) {
  switch (method) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kPatch:
      return "PATCH";
    case Method::kDelete:
      return "DELETE";
    case Method::kOptions:
      return "OPTIONS";
    case Method::kOther:
      break;
  }
  return "OTHER";
}

Method parse_method(std::string_view name) {
  for (Method method : {Method::kGet, Method::kPost, Method::kHead, Method::kPut, Method::kPatch,
                        Method::kDelete, Method::kOptions}) {
    if (method_name(method) == name) return method;
  }
  return Method::kOther;
}

std::string percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

void parse_target(Request& request) {
  const std::string_view target = request.target;
  const std::size_t question = target.find('?');
  const std::string_view raw_path = target.substr(0, question);
  // Most paths carry no escapes; skip the decoder's copy-and-scan for them.
  if (raw_path.find('%') == std::string_view::npos) {
    request.path.assign(raw_path);
  } else {
    request.path = percent_decode(raw_path);
  }
  request.query.clear();
  if (question == std::string_view::npos) return;
  std::string_view rest = target.substr(question + 1);
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t equals = pair.find('=');
    std::string key = percent_decode(pair.substr(0, equals), true);
    std::string value = equals == std::string_view::npos
                            ? std::string()
                            : percent_decode(pair.substr(equals + 1), true);
    request.query.emplace(std::move(key), std::move(value));
  }
}

}  // namespace updraft::net::http
