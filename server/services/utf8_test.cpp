#include "server/services/utf8.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace updraft::server {
namespace {

TEST(Utf8Test, AcceptsWellFormedText) {
  for (const std::string& text : std::vector<std::string>{
           "", "plain ASCII", "caf\xC3\xA9", "\xE2\x82\xAC 5", "\xF0\x9F\x9A\x80 launch",
           "\xED\x9F\xBF", "\xEE\x80\x80", "\xF4\x8F\xBF\xBF", std::string("nul\0inside", 10)}) {
    EXPECT_TRUE(valid_utf8(text)) << text;
  }
}

TEST(Utf8Test, RefusesMalformedText) {
  for (const std::string& text : std::vector<std::string>{
           "Latin-1 caf\xE9",   // a lone lead byte
           "\x80",              // a continuation byte alone
           "\xC0\xAF",          // overlong '/'
           "\xE0\x80\xAF",      // overlong, three bytes
           "\xF0\x80\x80\xAF",  // overlong, four bytes
           "\xED\xA0\x80",      // a surrogate (U+D800)
           "\xF4\x90\x80\x80",  // past U+10FFFF
           "\xF5\x80\x80\x80",  // no such lead byte
           "\xE2\x82",          // truncated at the end
           "\xE2\x28\xA1",      // a bad continuation
       }) {
    EXPECT_FALSE(valid_utf8(text)) << text;
  }
}

TEST(Utf8Test, APrefixNeverCutsACharacter) {
  const std::string text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z";  // a é € 😀 z
  for (std::size_t max = 0; max <= text.size() + 1; ++max) {
    const std::string_view prefix = utf8_prefix(text, max);
    EXPECT_LE(prefix.size(), max);
    EXPECT_TRUE(valid_utf8(prefix)) << max;
    EXPECT_EQ(text.substr(0, prefix.size()), prefix);
  }
  EXPECT_EQ(utf8_prefix(text, 3), "a\xC3\xA9");
  EXPECT_EQ(utf8_prefix(text, 5), "a\xC3\xA9") << "inside the euro sign";
  EXPECT_EQ(utf8_prefix(text, 100), text);
}

TEST(Utf8Test, NamesTheFieldInTheError) {
  EXPECT_TRUE(require_utf8("notes", "fine").ok());
  const HostResult<void> bad = require_utf8("notes", "caf\xE9");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kApiBadRequest);
  EXPECT_EQ(bad.error().message, "notes: not valid UTF-8");
}

}  // namespace
}  // namespace updraft::server
