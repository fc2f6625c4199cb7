#include "util/units.h"

#include <gtest/gtest.h>

#include "util/json.h"
#include "util/log.h"

namespace {

TEST(Units, Integers) {
  std::uint64_t v = 0;
  EXPECT_TRUE(util::parse_u64("0x20", v));
  EXPECT_EQ(v, 0x20u);
  EXPECT_TRUE(util::parse_u64("0b101", v));
  EXPECT_EQ(v, 5u);
  EXPECT_TRUE(util::parse_u64("1_000", v));
  EXPECT_EQ(v, 1000u);
  EXPECT_FALSE(util::parse_u64("0x", v));
  EXPECT_FALSE(util::parse_u64("12ab", v));
  EXPECT_FALSE(util::parse_u64("-1", v));
  EXPECT_FALSE(util::parse_u64("99999999999999999999", v)) << "overflow";
}

TEST(Units, Durations) {
  std::uint64_t ps = 0;
  EXPECT_TRUE(util::parse_duration_ps("250ns", ps));
  EXPECT_EQ(ps, 250'000u);
  EXPECT_TRUE(util::parse_duration_ps("1.5us", ps));
  EXPECT_EQ(ps, 1'500'000u);
  EXPECT_TRUE(util::parse_duration_ps("100ms", ps));
  EXPECT_EQ(ps, 100'000'000'000u);
  EXPECT_TRUE(util::parse_duration_ps("0", ps));
  EXPECT_EQ(ps, 0u);
  EXPECT_FALSE(util::parse_duration_ps("10", ps)) << "a non-zero duration needs a unit";
  EXPECT_FALSE(util::parse_duration_ps("0.5ps", ps)) << "below the time resolution";
  EXPECT_FALSE(util::parse_duration_ps("10 parsecs", ps));
  EXPECT_FALSE(util::parse_duration_ps("1.2.3ns", ps));
}

TEST(Units, FrequenciesAndSizes) {
  std::uint64_t v = 0;
  EXPECT_TRUE(util::parse_frequency_hz("1.193182MHz", v));
  EXPECT_EQ(v, 1'193'182u);
  EXPECT_TRUE(util::parse_frequency_hz("100MHz", v));
  EXPECT_EQ(v, 100'000'000u);
  EXPECT_FALSE(util::parse_frequency_hz("0Hz", v));
  EXPECT_FALSE(util::parse_frequency_hz("100", v));
  EXPECT_TRUE(util::parse_size("16MiB", v));
  EXPECT_EQ(v, 16u << 20);
  EXPECT_TRUE(util::parse_size("0x1000", v));
  EXPECT_EQ(v, 0x1000u);
  EXPECT_FALSE(util::parse_size("16MB", v))
      << "only binary units, to avoid the 10^6 / 2^20 ambiguity";
}

TEST(Units, TimeFormatting) {
  EXPECT_EQ(util::format_time(999), "999ps");
  EXPECT_EQ(util::format_time(12'345'000), "12.345us");
  EXPECT_EQ(util::format_time(100'000'000'000), "100.000ms");
}

TEST(Json, EscapesAndNests) {
  util::JsonWriter j;
  j.begin_object()
      .field("a", "x\"y\n")
      .begin_array("b")
      .value(std::uint64_t{1})
      .value(std::uint64_t{2})
      .end_array();
  j.field("c", 0.5).field("d", true).end_object();
  EXPECT_EQ(j.str(), R"({"a":"x\"y\n","b":[1,2],"c":0.5,"d":true})");
}

TEST(Log, CountsWarningsEvenWhenNotPrinted) {
  util::reset_log_counts();
  util::set_log_level(util::Level::off);
  util::Logger log("test");
  log.warn("w {}", 1);
  log.error("e");
  log.debug("d");
  EXPECT_EQ(util::log_count(util::Level::warn), 1u);
  EXPECT_EQ(util::log_count(util::Level::error), 1u);
}

}  // namespace
