#include "server/api/enos_codec.h"

#include "server/api/api_errors.h"
#include "server/services/utf8.h"

namespace updraft::server::api {
namespace {

using nlohmann::json;

// A text field: absent or null gives ""; another type is a 400 naming it.
HostResult<std::string> text_field(const json& body, const char* name) {
  if (!body.contains(name) || body[name].is_null()) return std::string();
  if (!body[name].is_string()) return bad_request(std::string(name) + ": must be text");
  return body[name].get<std::string>();
}

// An integer field that must be present.
HostResult<int> int_field(const json& body, const char* name) {
  if (!body.contains(name)) return bad_request(std::string(name) + ": required");
  const json& v = body[name];
  if (!v.is_number_integer()) return bad_request(std::string(name) + ": must be an integer");
  const std::int64_t value = v.get<std::int64_t>();
  if (value < -1'000'000 || value > 1'000'000)
    return bad_request(std::string(name) + ": out of range");
  return static_cast<int>(value);
}

}  // namespace

HostResult<EnosIdentity> enos_identity_from_json(const json& body) {
  EnosIdentity who;
  UPDRAFT_TRY_ASSIGN(who.asset_id, text_field(body, "assetId"));
  if (who.asset_id.size() > 64) return bad_request("assetId: at most 64 bytes");
  if (body.contains("serialNum") && !body["serialNum"].is_null()) {
    UPDRAFT_TRY_ASSIGN(std::string serial, text_field(body, "serialNum"));
    if (serial.size() > 64) return bad_request("serialNum: at most 64 bytes");
    who.serial = std::move(serial);
  }
  return who;
}

HostResult<std::string> enos_version_from_json(const json& body) {
  return text_field(body, "version");
}

HostResult<EnosDownloadResult> enos_download_result_from_json(const json& body) {
  EnosDownloadResult r;
  UPDRAFT_TRY_ASSIGN(r.code, int_field(body, "code"));
  UPDRAFT_TRY_ASSIGN(r.message, text_field(body, "message"));
  r.message = std::string(utf8_prefix(r.message, 500));
  return r;
}

HostResult<EnosUpdateResult> enos_update_result_from_json(const json& body) {
  EnosUpdateResult r;
  UPDRAFT_TRY_ASSIGN(r.flag, int_field(body, "flag"));
  UPDRAFT_TRY_ASSIGN(r.process, int_field(body, "process"));
  UPDRAFT_TRY_ASSIGN(r.version, text_field(body, "version"));
  UPDRAFT_TRY_ASSIGN(r.desc, text_field(body, "desc"));
  r.version = r.version.substr(0, 64);
  r.desc = r.desc.substr(0, 400);
  if (body.contains("errcode")) {
    const json& e = body["errcode"];
    if (e.is_string()) {
      r.errcode = e.get<std::string>().substr(0, 64);
    } else if (e.is_number_integer()) {
      r.errcode = std::to_string(e.get<std::int64_t>());
    } else if (!e.is_null()) {
      return bad_request("errcode: text or an integer");
    }
  }
  return r;
}

}  // namespace updraft::server::api
