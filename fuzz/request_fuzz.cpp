// Fuzz target for what updraftd parses out of request bodies: the JSON object
// check, device check-ins and reports, and campaign definitions (server/api/
// json_codec.h); hawkBit DDI feedback and configData (server/api/ddi_codec.h); the
// EnOS sub-device bodies (server/api/enos_codec.h). The first input byte picks the
// parser, the rest is the body. Property, checked on every input (abort() otherwise):
//   - only nlohmann::json's own exceptions may escape (the API's guarded() wrapper
//     answers those 400); anything else would be a 500 or a crash;
//   - every refusal is kApiBadRequest with a message naming the field;
//   - an accepted campaign re-encodes to JSON that parses back to the same campaign,
//     and an accepted check-in or report stays within the documented ranges;
//   - accepted DDI feedback has a known execution and result, progress -1..100 and
//     bounded details; accepted configData is bounded and applies by its mode;
//   - accepted EnOS fields are bounded in length, and their numbers in range.
// Built as a libFuzzer binary with UPDRAFT_FUZZ, else into request_fuzz_replay,
// which runs the seed corpus in the normal test run (see README.md).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "server/api/ddi_codec.h"
#include "server/api/enos_codec.h"
#include "server/api/json_codec.h"

namespace updraft::server::api {
namespace {

void check(bool holds, const char* property) {
  if (!holds) {
    std::fprintf(stderr, "request_fuzz: property violated: %s\n", property);
    std::abort();
  }
}

template <typename T>
void check_refusal(const HostResult<T>& r) {
  if (r.ok()) return;
  check(r.error().code == ErrorCode::kApiBadRequest, "a refusal is BAD_REQUEST");
  check(!r.error().message.empty(), "a refusal says why");
}

void run(std::uint8_t which, const std::string& body) {
  net::http::Request request;
  request.body = body;
  HostResult<json> object = parse_object(request);
  check_refusal(object);
  if (!object.ok()) return;
  switch (which % 9) {
    case 0: {
      HostResult<CheckInRequest> in = check_in_from_json(*object);
      check_refusal(in);
      if (in.ok()) {
        check(in->status.version.size() <= 64, "version length bounded");
        check(in->status.battery_percent >= -1 && in->status.battery_percent <= 100,
              "battery in range");
      }
      break;
    }
    case 1: {
      HostResult<DeviceReport> r = report_from_json(*object);
      check_refusal(r);
      if (r.ok()) check(r->progress >= 0 && r->progress <= 100, "progress in range");
      break;
    }
    case 2: {
      HostResult<Campaign> c = campaign_from_json(*object);
      check_refusal(c);
      if (c.ok()) {
        HostResult<Campaign> again = campaign_from_json(to_json(*c));
        check(again.ok(), "an accepted campaign re-encodes to an accepted one");
        check(to_json(*again) == to_json(*c), "the campaign round-trips through JSON");
      }
      break;
    }
    case 3: {
      HostResult<DdiFeedback> f = ddi_feedback_from_json(*object);
      check_refusal(f);
      if (f.ok()) {
        check(f->percent >= -1 && f->percent <= 100, "DDI progress in range");
        check(f->finished == "success" || f->finished == "failure" || f->finished == "none",
              "DDI result known");
        check(!f->execution.empty(), "DDI execution given");
        check(f->details.size() <= kMaxDetails, "DDI details bounded");
        for (const std::string& line : f->details)
          check(line.size() <= kMaxDetailBytes, "DDI detail lines bounded");
        check(ddi_deployment_message("ERROR earlier\nold", f->details).size() <= kMaxMessageBytes,
              "DDI deployment message bounded");
      }
      break;
    }
    case 4: {
      HostResult<DdiConfigData> c = ddi_config_data_from_json(*object);
      check_refusal(c);
      if (c.ok()) {
        check(c->data.size() <= kMaxConfigEntries, "configData bounded");
        const std::map<std::string, std::string> before = {{"kept", "1"}};
        const auto after = apply_config_data(before, *c);
        for (const auto& [key, value] : c->data) {
          const auto it = after.find(key);
          if (c->mode == "remove") {
            check(it == after.end(), "removed keys are gone");
          } else {
            check(it != after.end() && it->second == value, "merged keys hold their values");
          }
        }
        if (c->mode == "replace") check(after == c->data, "replace keeps only the new data");
      }
      break;
    }
    case 5: {
      HostResult<EnosIdentity> who = enos_identity_from_json(*object);
      check_refusal(who);
      if (who.ok()) {
        check(who->asset_id.size() <= 64, "assetId bounded");
        check(!who->serial || who->serial->size() <= 64, "serialNum bounded");
        check(!who->token_device, "a body never names a token's device");
      }
      break;
    }
    case 6: {
      HostResult<std::string> version = enos_version_from_json(*object);
      check_refusal(version);
      break;
    }
    case 7: {
      HostResult<EnosDownloadResult> r = enos_download_result_from_json(*object);
      check_refusal(r);
      if (r.ok()) {
        check(r->code >= -1'000'000 && r->code <= 1'000'000, "code in range");
        check(r->message.size() <= 500, "message bounded");
      }
      break;
    }
    case 8: {
      HostResult<EnosUpdateResult> r = enos_update_result_from_json(*object);
      check_refusal(r);
      if (r.ok()) {
        check(r->flag >= -1'000'000 && r->flag <= 1'000'000, "flag in range");
        check(r->process >= -1'000'000 && r->process <= 1'000'000, "process in range");
        check(r->desc.size() <= 400 && r->errcode.size() <= 64 && r->version.size() <= 64,
              "texts bounded");
      }
      break;
    }
  }
}

}  // namespace
}  // namespace updraft::server::api

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    updraft::server::api::run(data[0], body);
  } catch (const nlohmann::json::exception&) {
    // The API answers these 400 (server/api/api_errors.h, guarded()).
  }
  return 0;
}
