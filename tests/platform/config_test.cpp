// The config layer: defaults, the shipped default platform, and errors that name file, line
// and key for every kind of mistake.
#include "platform/config.h"

#include <fstream>

#include <gtest/gtest.h>

#include "platform/platform.h"
#include "tests/support/sc_test.h"

namespace {

using platform::ConfigError;

std::string write_temp(const std::string& name, const std::string& text) {
  std::string path = testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

// Runs `f` and returns the ConfigError message, or fails the test if none is thrown.
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ConfigError";
  return {};
}

TEST(Config, ShippedDefaultPlatformEqualsTheBuiltInDefaults) {
  platform::Config loaded =
      platform::load_config(IOCOSIM_SOURCE_DIR "/platform/configs/default.yaml");
  auto want = platform::config_keys();
  auto got = platform::config_keys(loaded);
  ASSERT_EQ(want.size(), got.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    // The file turns the quick start's VCD on and keeps its disk image.
    if (want[i].path == "output.vcd" || want[i].path == "devices.disk.image") continue;
    EXPECT_EQ(got[i].value, want[i].value) << want[i].path;
  }
  EXPECT_EQ(loaded.out_vcd, "traces/default.vcd");
  EXPECT_NE(loaded.where("cpu.clock"), "default") << "every key is written out in the file";
}

TEST(Config, EveryKeyOfTheSchemaIsInTheShippedDefaultFile) {
  platform::Config loaded =
      platform::load_config(IOCOSIM_SOURCE_DIR "/platform/configs/default.yaml");
  for (const auto& k : platform::config_keys())
    EXPECT_NE(loaded.where(k.path), "default") << k.path;
}

TEST(Config, EmptyFileIsAllDefaults) {
  auto c = platform::load_config(write_temp("empty.yaml", ""));
  EXPECT_EQ(c.cpu.clock_hz, platform::Config{}.cpu.clock_hz);
}

TEST(Config, ValuesParseWithUnits) {
  auto c = platform::load_config(write_temp(
      "units.yaml", "cpu:\n  clock: 33MHz\n  quantum: 1.5us\nmemory:\n  ram:\n    size: 4MiB\n"));
  EXPECT_EQ(c.cpu.clock_hz, 33'000'000u);
  EXPECT_EQ(c.cpu.quantum_ps, 1'500'000u);
  EXPECT_EQ(c.ram_size, 4u << 20);
}

TEST(Config, UnknownKeyNamesFileLineAndKey) {
  std::string path = write_temp("unknown.yaml", "cpu:\n  clock: 100MHz\n  colck: 3\n");
  EXPECT_EQ(error_of([&] { platform::load_config(path); }),
            path + ":3: unknown key 'cpu.colck' (see `iocosim keys`)");
}

TEST(Config, BadValueNamesFileLineAndKey) {
  std::string path = write_temp("bad.yaml", "timer:\n  irq: 16\n");
  EXPECT_EQ(error_of([&] { platform::load_config(path); }),
            path + ":2: key 'timer.irq': 16 is outside [0, 15]");
}

TEST(Config, SectionGivenAValueAndValueGivenASection) {
  std::string a = write_temp("a.yaml", "cpu: 5\n");
  EXPECT_NE(error_of([&] { platform::load_config(a); }).find(a + ":1: key 'cpu' is a section"),
            std::string::npos);
  std::string b = write_temp("b.yaml", "cpu:\n  clock:\n    mhz: 5\n");
  EXPECT_NE(
      error_of([&] { platform::load_config(b); }).find(b + ":2: key 'cpu.clock' takes a value"),
      std::string::npos);
}

TEST(Config, MalformedYamlNamesTheLine) {
  std::string path = write_temp("broken.yaml", "cpu:\n  clock: [100MHz\n");
  std::string msg = error_of([&] { platform::load_config(path); });
  EXPECT_EQ(msg.rfind(path + ":", 0), 0u) << msg;
}

TEST(Config, MissingFile) {
  EXPECT_EQ(error_of([] { platform::load_config("/nonexistent/x.yaml"); }),
            "/nonexistent/x.yaml: cannot open the config file");
}

TEST(Config, OverridesUseTheSameParsersAndNameTheOverride) {
  platform::Config c;
  platform::apply_override(c, "cpu.clock=200MHz");
  EXPECT_EQ(c.cpu.clock_hz, 200'000'000u);
  EXPECT_EQ(c.where("cpu.clock"), "--set");
  EXPECT_EQ(
      error_of([&] { platform::apply_override(c, "cpu.clock=fast"); }),
      "--set cpu.clock=fast: key 'cpu.clock': expected a frequency such as 100MHz, got 'fast'");
  EXPECT_EQ(error_of([&] { platform::apply_override(c, "nope=1"); }),
            "--set nope=1: unknown key 'nope' (see `iocosim keys`)");
  EXPECT_EQ(error_of([&] { platform::apply_override(c, "cpu.clock"); }),
            "--set cpu.clock: expected key=value");
}

TEST(Config, ListKeyFromSequenceOrCommaList) {
  auto c =
      platform::load_config(write_temp("groups.yaml", "output:\n  vcd_groups: [pic, timer]\n"));
  EXPECT_EQ(c.out_vcd_groups, (std::vector<std::string>{"pic", "timer"}));
  platform::apply_override(c, "output.vcd_groups=cpu,irq");
  EXPECT_EQ(c.out_vcd_groups, (std::vector<std::string>{"cpu", "irq"}));
  EXPECT_NE(error_of([&] {
              platform::apply_override(c, "output.vcd_groups=cpu,dmx");
            }).find("unknown trace group 'dmx'"),
            std::string::npos);
}

TEST(Config, CrossKeyChecksNameTheKeyAndWhereItWasSet) {
  std::string path = write_temp("cascade.yaml", "timer:\n  irq: 2\n");
  auto c = platform::load_config(path);
  EXPECT_EQ(
      error_of([&] { platform::validate(c); }),
      path + ":2: key 'timer.irq': IRQ2 is the cascade input (interrupt_controller.cascade_irq)");
  platform::Config d;
  platform::apply_override(d, "workload.vector_base=0x34");
  EXPECT_EQ(error_of([&] { platform::validate(d); }),
            "--set: key 'workload.vector_base': 0x34 is not a multiple of 8");
}

TEST(Config, OverlappingPortWindowsAreAConfigErrorNamingTheKey) {
  platform::Config c;
  platform::apply_override(c, "timer.port=0x20");
  std::string msg = error_of([&] { platform::Platform p("p", c); });
  EXPECT_NE(msg.find("key 'timer.port'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("overlaps pic_master"), std::string::npos) << msg;
}

}  // namespace
