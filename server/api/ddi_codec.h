// The hawkBit DDI v1 bodies updraftd parses and the settings a product (a DDI
// tenant) keeps for it (docs/api/ddi.md). Parsing is tolerant where real clients
// are sloppy (odd progress counts, details that are not strings) and strict where
// a wrong value would move a deployment the wrong way (unknown execution/finished).
// Refusals are kApiBadRequest naming the field first.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/host/error.h"

namespace updraft::server::api {

// POST .../deploymentBase/{actionId}/feedback and .../cancelAction/{id}/feedback.
struct DdiFeedback {
  // closed, proceeding, canceled, scheduled, rejected, resumed, downloaded, download
  std::string execution;
  std::string finished = "none";  // success, failure, none
  int percent = -1;               // from result.progress cnt/of, 0..100; -1: not given or unusable
  std::vector<std::string> details;  // at most kMaxDetails lines of at most kMaxDetailBytes
};

inline constexpr std::size_t kMaxDetails = 100;
inline constexpr std::size_t kMaxDetailBytes = 500;
inline constexpr std::size_t kMaxConfigEntries = 100;

HostResult<DdiFeedback> ddi_feedback_from_json(const nlohmann::json& body);

// PUT .../configData: {"mode":"merge|replace|remove","data":{key: value}}.
struct DdiConfigData {
  std::string mode = "merge";
  std::map<std::string, std::string> data;
};

HostResult<DdiConfigData> ddi_config_data_from_json(const nlohmann::json& body);

// `stored` with `update` applied by its mode: merge overwrites the keys given,
// replace drops the rest, remove deletes the keys given.
std::map<std::string, std::string> apply_config_data(std::map<std::string, std::string> stored,
                                                     const DdiConfigData& update);

// A product's DDI settings, kept as JSON text in the store's settings.
struct DdiSettings {
  bool auto_register = false;      // unknown controllers polling with the gateway token register
  std::string hardware;            // ... with this hardware id
  std::string gateway_token_hash;  // SHA-256 hex; empty: no gateway token
  std::string artifact_suffix = ".swu";  // file name ending the artifact gets (SWUpdate wants .swu)
};

nlohmann::json to_json(const DdiSettings& settings);  // with the hash: the stored form
HostResult<DdiSettings> ddi_settings_from_json(const nlohmann::json& stored);

// The deployment message after a feedback with `details`: the client's error lines
// (those starting with "ERROR", as SWUpdate marks them) from `previous` and from
// `details` first, then the other lines of `details`, joined by newlines and cut
// to kMaxMessageBytes. Clients send their reason for a failure in an earlier
// progress feedback than the one that closes it; this keeps it for the console.
inline constexpr std::size_t kMaxMessageBytes = 500;
std::string ddi_deployment_message(const std::string& previous,
                                   const std::vector<std::string>& details);

// Seconds as DDI's "HH:MM:SS" (hours may exceed 24; negative counts as 0).
std::string ddi_sleep(std::int64_t seconds);

}  // namespace updraft::server::api
