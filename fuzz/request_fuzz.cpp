// Fuzz target for what updraftd parses out of request bodies: the JSON object
// check, device check-ins and reports, and campaign definitions (server/api/
// json_codec.h); hawkBit DDI feedback and configData (server/api/ddi_codec.h); the
// EnOS sub-device bodies (server/api/enos_codec.h); the binary CoAP payloads and
// artifact references (server/api/coap_codec.h, server/services/opaque_ids.h); the
// Mender authentication request and deployment ids (server/services/mender_service.h).
// The first input byte picks the parser (modulo 15), the rest is the body. Property,
// checked on every input (abort() otherwise):
//   - only nlohmann::json's own exceptions may escape (the API's guarded() wrapper
//     answers those 400); anything else would be a 500 or a crash;
//   - every refusal is kApiBadRequest with a message naming the field;
//   - an accepted campaign re-encodes to JSON that parses back to the same campaign,
//     and an accepted check-in or report stays within the documented ranges;
//   - accepted DDI feedback has a known execution and result, progress -1..100 and
//     bounded details; accepted configData is bounded and applies by its mode;
//   - accepted EnOS fields are bounded in length, and their numbers in range;
//   - an accepted CoAP check-in, report or check-in answer encodes back to exactly
//     the input, with every field in its documented range; sealed under a key it
//     verifies under that key and no other;
//   - a CoAP artifact reference is accepted only as the exact text OpaqueIds made;
//   - an accepted Mender identity is canonical JSON (it parses to itself), and a
//     Mender deployment id round-trips through its UUID form.
// Built as a libFuzzer binary with UPDRAFT_FUZZ, else into request_fuzz_replay,
// which runs the seed corpus in the normal test run (see README.md).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "server/api/coap_codec.h"
#include "server/api/ddi_codec.h"
#include "server/api/enos_codec.h"
#include "server/api/json_codec.h"
#include "server/services/mender_service.h"
#include "server/services/opaque_ids.h"

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

constexpr int kParsers = 15;  // 0..8 JSON bodies, 9..12 CoAP, 13..14 Mender

const std::string kKey = std::string(64, 'a');  // a device key: 64 hex characters
const std::string kOtherKey = std::string(64, 'b');

bool same_bytes(const std::vector<std::byte>& encoded, const std::string& body) {
  return encoded.size() == body.size() &&
         std::equal(encoded.begin(), encoded.end(),
                    reinterpret_cast<const std::byte*>(body.data()));
}

void check_sender(const CoapSender& sender, std::size_t size) {
  check(!sender.device.value.empty() && sender.device.value.size() <= kCoapMaxDeviceId,
        "CoAP device id bounded");
  check(sender.mac_covers + 1 + (sender.mac ? kCoapMacSize : 0) == size,
        "the MAC covers everything before its length");
}

// A decoded check-in or report, sealed under kKey: it verifies under kKey only.
template <typename T, typename Encode, typename Decode>
void check_sealing(const T& decoded, Encode encode, Decode decode) {
  const std::vector<std::byte> sealed = encode(decoded, kKey);
  const HostResult<T> again = decode(sealed);
  check(again.ok(), "a sealed payload decodes");
  check(coap_mac_matches(sealed, again->sender, kKey), "a sealed payload verifies");
  check(!coap_mac_matches(sealed, again->sender, kOtherKey), "only under its own key");
}

void run_coap(int parser, const std::string& body) {
  const ByteView bytes(reinterpret_cast<const std::byte*>(body.data()), body.size());
  switch (parser) {
    case 9: {
      HostResult<CoapCheckIn> in = coap_check_in_from_bytes(bytes);
      check_refusal(in);
      if (!in.ok()) break;
      check(same_bytes(coap_check_in_to_bytes(*in), body), "a CoAP check-in round-trips");
      check_sender(in->sender, body.size());
      const DeviceStatusReport& s = in->request.status;
      check(s.version.size() <= kCoapMaxVersion, "CoAP version bounded");
      check(s.slot == 0 || s.slot == 1, "CoAP slot 0 or 1");
      check(s.battery_percent >= -1 && s.battery_percent <= 100, "CoAP battery in range");
      check(s.image_sha256.size() == 64, "CoAP image hash is 32 bytes");
      check_sealing(
          *in,
          [](const CoapCheckIn& c, std::string_view k) { return coap_check_in_to_bytes(c, k); },
          coap_check_in_from_bytes);
      break;
    }
    case 10: {
      HostResult<CoapReport> r = coap_report_from_bytes(bytes);
      check_refusal(r);
      if (!r.ok()) break;
      check(same_bytes(coap_report_to_bytes(*r), body), "a CoAP report round-trips");
      check_sender(r->sender, body.size());
      check(state_for_phase(r->report.phase, r->report.error).has_value(), "CoAP phase known");
      check(r->report.progress >= -1 && r->report.progress <= 100, "CoAP progress in range");
      check(r->report.running_version.size() <= kCoapMaxVersion, "CoAP version bounded");
      check_sealing(
          *r, [](const CoapReport& c, std::string_view k) { return coap_report_to_bytes(c, k); },
          coap_report_from_bytes);
      break;
    }
    case 11: {
      HostResult<CoapCheckInAnswer> a = coap_answer_from_bytes(bytes);
      check_refusal(a);
      if (!a.ok()) break;
      HostResult<std::vector<std::byte>> again = coap_answer_to_bytes(*a);
      check(again.ok() && same_bytes(*again, body), "a CoAP check-in answer round-trips");
      check(a->manifest.size() <= kCoapMaxManifest, "CoAP manifest bounded");
      break;
    }
    case 12: {
      static const OpaqueIds refs(DeviceTokens(kKey), "coap-artifact");
      const std::optional<DeploymentId> id = refs.parse(body);
      if (id) check(id->value > 0 && refs.make(*id) == body, "a reference is what make() wrote");
      break;
    }
  }
}

// 13: a Mender authentication request body; 14: a deployment id in a Mender path.
void run_mender(int parser, const std::string& body) {
  if (parser == 13) {
    HostResult<MenderAuthRequest> r = mender_auth_request_from_json(body);
    check_refusal(r);
    if (!r.ok()) return;
    check(r->pubkey.size() <= 8192, "pubkey bounded");
    HostResult<MenderAuthRequest> again =
        mender_auth_request_from_json(json{{"id_data", r->id_data}, {"pubkey", r->pubkey}}.dump());
    check(again.ok() && again->id_data == r->id_data, "id_data is canonical: it parses to itself");
    return;
  }
  const std::optional<DeploymentId> id = parse_mender_deployment_id(body);
  if (!id) return;
  check(id->value > 0, "a deployment id is positive");
  check(parse_mender_deployment_id(mender_deployment_id(*id)) == id,
        "a deployment id round-trips through its Mender form");
}

void run(std::uint8_t which, const std::string& body) {
  const int parser = which % kParsers;
  if (parser >= 13) return run_mender(parser, body);
  if (parser >= 9) return run_coap(parser, body);
  net::http::Request request;
  request.body = body;
  HostResult<json> object = parse_object(request);
  check_refusal(object);
  if (!object.ok()) return;
  switch (parser) {
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
