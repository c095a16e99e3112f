// The request body decoders of server/api/json_codec.h on what clients send:
// every number is range-checked as the JSON holds it, never after a conversion.
#include "server/api/json_codec.h"

#include <gtest/gtest.h>

#include <string>

#include "server/services/json_fields.h"

namespace updraft::server::api {
namespace {

json body(const char* text) { return json::parse(text); }

template <typename T>
void expect_refused(const HostResult<T>& r, const std::string& field) {
  ASSERT_FALSE(r.ok()) << field;
  EXPECT_EQ(r.error().code, ErrorCode::kApiBadRequest);
  EXPECT_EQ(r.error().message.rfind(field + ":", 0), 0u) << r.error().message;
}

// The finding (fuzzing, 2026-12-01): json::value(field, 0) converted a float or a
// huge integer to int before any range check: undefined for 1e300, and a
// progress of 4294967346 was stored as 50. The inputs are also seeds of
// request_fuzz (fuzz/corpus/request_fuzz/regression_*).
TEST(Regression, LargeJsonNumbersAreRefusedNotConverted) {
  expect_refused(check_in_from_json(body(R"({"version":"1.0.0","battery":1e10})")), "battery");
  expect_refused(check_in_from_json(body(R"({"version":"1.0.0","slot":-3e9})")), "slot");
  expect_refused(check_in_from_json(body(R"({"version":"1.0.0","slot":3333333333333333333333})")),
                 "slot");
  expect_refused(report_from_json(body(R"({"phase":"downloading","progress":1e10})")), "progress");
  expect_refused(report_from_json(body(R"({"phase":"downloading","progress":4294967346})")),
                 "progress");
  expect_refused(report_from_json(body(R"({"phase":"downloading","error":1e300})")), "error");
  expect_refused(
      campaign_from_json(body(R"({"name":"x","release":1,"max_concurrent_downloads":1e19})")),
      "max_concurrent_downloads");
  expect_refused(
      campaign_from_json(body(R"({"name":"x","release":1,"phases":[{"percent":4294967396}]})")),
      "percent");
  expect_refused(campaign_from_json(body(R"({"name":"x","release":1,"failure_threshold":1.5})")),
                 "failure_threshold");
}

TEST(JsonCodecTest, NumbersInRangeAreTakenAndMissingOnesDefault) {
  HostResult<CheckInRequest> in =
      check_in_from_json(body(R"({"version":"1.0.0","slot":1,"battery":55})"));
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->status.slot, 1);
  EXPECT_EQ(in->status.battery_percent, 55);
  in = check_in_from_json(body(R"({"version":"1.0.0"})"));
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->status.battery_percent, -1);
  HostResult<DeviceReport> r = report_from_json(body(R"({"phase":"failure","error":107})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->error, 107);
  expect_refused(report_from_json(body(R"({"phase":"failure","error":"107"})")), "error");
  expect_refused(report_from_json(body(R"({"phase":"failure","progress":50.5})")), "progress");
}

TEST(JsonCodecTest, ACampaignTargetsInventoryAttributesByTheirJsonValue) {
  const HostResult<Campaign> c = campaign_from_json(body(
      R"({"name":"x","release":1,"target":{"inventory":{"kernel":"6.1","slots":2,"ips":["a"]}}})"));
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->target.inventory, (std::map<std::string, std::string>{
                                     {"ips", R"(["a"])"}, {"kernel", R"("6.1")"}, {"slots", "2"}}));
  EXPECT_EQ(to_json(*c)["target"]["inventory"], body(R"({"kernel":"6.1","slots":2,"ips":["a"]})"));
  expect_refused(campaign_from_json(body(R"({"name":"x","release":1,"target":{"inventory":[]}})")),
                 "target.inventory");
  expect_refused(
      campaign_from_json(body(R"({"name":"x","release":1,"target":{"inventory":{"a":null}}})")),
      "target.inventory");
}

TEST(JsonFieldsTest, AWholeNumberInRangeOrTheFallback) {
  const json j = json::parse(R"({"a":5,"b":18446744073709551615,"c":-7,"d":2.0,"e":"5","f":null})");
  EXPECT_EQ(integer_field(j, "a", 0, 0, 10).value(), 5);
  EXPECT_EQ(integer_field(j, "missing", 3, 0, 10).value(), 3);
  EXPECT_EQ(integer_field(j, "f", 3, 0, 10).value(), 3);
  EXPECT_FALSE(integer_field(j, "b", 0, 0, 10).ok());
  EXPECT_FALSE(integer_field(j, "c", 0, 0, 10).ok());
  EXPECT_EQ(integer_field(j, "c", 0, -10, 10).value(), -7);
  EXPECT_FALSE(integer_field(j, "d", 0, 0, 10).ok()) << "2.0 is a float in JSON";
  EXPECT_FALSE(integer_field(j, "e", 0, 0, 10).ok());
  EXPECT_EQ(number_field(j, "d", 0, 0, 10).value(), 2.0);
  EXPECT_FALSE(number_field(j, "e", 0, 0, 10).ok());
}

}  // namespace
}  // namespace updraft::server::api
