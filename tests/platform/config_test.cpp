// The config layer: defaults, the shipped default platform, and errors that name file, line
// and key for every kind of mistake.
#include "platform/config.h"

#include <fstream>

#include <gtest/gtest.h>

#include "hw/devices/block_device.h"
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
  platform::Config builtin;
  auto want = platform::config_keys();
  auto got = platform::config_keys(loaded);
  ASSERT_EQ(want.size(), got.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    // The file turns the quick start's VCD on.
    if (want[i].path == "output.vcd") continue;
    EXPECT_EQ(got[i].value, want[i].value) << want[i].path;
  }
  EXPECT_EQ(loaded.out_vcd, "traces/default.vcd");
  EXPECT_NE(loaded.where("cpu.clock"), "default") << "every key is written out in the file";
  // The same instances, with the same values (the file keeps its disk image).
  ASSERT_EQ(loaded.devices.size(), builtin.devices.size());
  for (std::size_t i = 0; i < builtin.devices.size(); ++i) {
    const auto& a = loaded.devices[i];
    const auto& b = builtin.devices[i];
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.driver, b.driver) << b.name;
    EXPECT_EQ(a.filters, b.filters) << b.name;
    for (const auto& [key, v] : b.settings.values()) {
      if (key == "image") continue;
      EXPECT_EQ(a.settings.number(key), v.number) << b.key(key);
      EXPECT_EQ(a.settings.text(key).empty(), v.text.empty()) << b.key(key);
    }
  }
  for (const auto& [type, settings] : builtin.drivers)
    for (const auto& [key, v] : settings.values())
      EXPECT_EQ(loaded.driver_keys(type).text(key), v.text) << "drivers." << type << "." << key;
  for (const auto& [section, settings] : builtin.workloads)
    for (const auto& [key, v] : settings.values())
      EXPECT_EQ(loaded.workload_keys(section).text(key), v.text)
          << "workload." << section << "." << key;
}

TEST(Config, EveryKeyOfTheSchemaIsInTheShippedDefaultFile) {
  platform::Config loaded =
      platform::load_config(IOCOSIM_SOURCE_DIR "/platform/configs/default.yaml");
  for (const auto& k : platform::config_keys()) {
    if (k.path.rfind("devices[]", 0) == 0) continue;  // type, name, driver, filters
    if (k.path.rfind("devices[", 0) == 0) {
      // devices[TYPE].KEY: written out for the first instance of that type.
      const auto close = k.path.find(']');
      const std::string type = k.path.substr(8, close - 8), key = k.path.substr(close + 2);
      const platform::DeviceInstance* first = nullptr;
      for (const auto& d : loaded.devices)
        if (first == nullptr && d.type == type) first = &d;
      ASSERT_NE(first, nullptr) << "no " << type << " instance in default.yaml";
      EXPECT_NE(first->settings.where(key), "default") << first->key(key);
      continue;
    }
    EXPECT_NE(loaded.where(k.path), "default") << k.path;
  }
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
            path + ":3: unknown key 'cpu.colck' (did you mean 'cpu.clock'?) (see `iocosim keys`)");
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
  EXPECT_EQ(c.where("cpu.clock"), "--set cpu.clock=200MHz") << "the option as typed";
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
  EXPECT_EQ(
      error_of([&] { platform::validate(d); }),
      "--set workload.vector_base=0x34: key 'workload.vector_base': 0x34 is not a multiple of 8");
}

TEST(Config, OverlappingPortWindowsAreAConfigErrorNamingTheKey) {
  platform::Config c;
  platform::apply_override(c, "timer.port=0x20");
  std::string msg = error_of([&] { platform::Platform p("p", c); });
  EXPECT_NE(msg.find("key 'timer.port'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("overlaps pic.master"), std::string::npos) << msg;
  // The generic pass finds it before anything is built, naming the other window's key.
  EXPECT_EQ(error_of([&] { platform::validate(c); }),
            "--set timer.port=0x20: key 'timer.port': ports [0x20, 0x24) overlap [0x20, 0x22) of "
            "interrupt_controller.master_port (default)");
}

// --- the device list: every mistake names the file, the line and the key.

std::string device_list(const std::string& entries) {
  return "devices:\n" + entries;
}

TEST(DeviceList, TwoInstancesOfOneTypeEachWithTheirOwnKeys) {
  auto c = platform::load_config(write_temp(
      "two.yaml",
      device_list("  - {type: block, name: disk0, port: 0x1f0, irq: 14, dma_channel: 1}\n"
                  "  - {type: block, name: disk1, port: 0x170, irq: 15, dma_channel: "
                  "2, size: 1MiB, seek_time: 150us}\n")));
  ASSERT_EQ(c.devices.size(), 2u);
  EXPECT_EQ(c.device("disk1")->settings.number("size"), 1u << 20);
  EXPECT_EQ(c.device("disk1")->settings.number("seek_time"), 150'000'000u);
  EXPECT_EQ(c.device("disk0")->settings.number("size"), 4u << 20) << "the type's default";
  EXPECT_EQ(c.device("disk1")->driver, "disk") << "the type's driver";
  platform::apply_override(c, "devices.disk1.seek_time=1ms");
  EXPECT_EQ(c.device("disk1")->settings.number("seek_time"), 1'000'000'000u);
  EXPECT_EQ(c.where("devices.disk1.seek_time"), "--set devices.disk1.seek_time=1ms");
  c.workload = "none";
  platform::validate(c);
}

TEST(DeviceList, UnknownTypeNamesLineAndKey) {
  const std::string path =
      write_temp("type.yaml", device_list("  - {type: block, name: disk0, port: 0x1f0, irq: 14}\n"
                                          "  - {type: floppy, name: fd0, port: 0x3f0, irq: 6}\n"));
  EXPECT_EQ(error_of([&] { platform::load_config(path); }),
            path +
                ":3: key 'devices[1].type': unknown device type 'floppy' (registered: block, "
                "serial, oneshot)");
}

TEST(DeviceList, DuplicateNameNamesBothLines) {
  const std::string path =
      write_temp("dup.yaml", device_list("  - {type: serial, name: com1, port: 0x3f8, irq: 4}\n"
                                         "  - {type: serial, name: com1, port: 0x2f8, irq: 3}\n"));
  EXPECT_EQ(error_of([&] { platform::load_config(path); }),
            path + ":3: key 'devices[1].name': 'com1' is also the name of the instance at " + path +
                ":2");
}

TEST(DeviceList, MissingRequiredKeyNamesTheInstanceAndTheKey) {
  const std::string path = write_temp(
      "missing.yaml", device_list("  - type: serial\n    name: com2\n    port: 0x2f8\n"));
  EXPECT_EQ(error_of([&] { platform::load_config(path); }),
            path + ":2: key 'devices.com2.irq': missing (a serial device needs it: IRQ line)");
  const std::string untyped = write_temp("untyped.yaml", device_list("  - {name: x, irq: 3}\n"));
  EXPECT_NE(error_of([&] {
              platform::load_config(untyped);
            }).find(untyped + ":2: key 'devices[0].type': missing"),
            std::string::npos);
}

TEST(DeviceList, UnknownAndBadKeysNameTheirLine) {
  const std::string path = write_temp(
      "keys.yaml", device_list("  - type: block\n    name: disk0\n    port: 0x1f0\n    irq: 14\n"
                               "    colour: red\n"));
  EXPECT_NE(error_of([&] {
              platform::load_config(path);
            }).find(path + ":6: key 'devices.disk0.colour': unknown key for a block device"),
            std::string::npos);
  const std::string bad = write_temp(
      "badirq.yaml", device_list("  - type: oneshot\n    name: t\n    port: 0x300\n    irq: 16\n"));
  EXPECT_EQ(error_of([&] { platform::load_config(bad); }),
            bad + ":5: key 'devices.t.irq': 16 is outside [0, 15]");
  const std::string notalist = write_temp("map.yaml", "devices:\n  disk: {port: 0x1f0}\n");
  EXPECT_NE(error_of([&] {
              platform::load_config(notalist);
            }).find(notalist + ":1: key 'devices': expected a list of device instances"),
            std::string::npos);
}

TEST(DeviceList, ConflictingResourcesAcrossInstancesNameBothKeys) {
  const std::string windows = write_temp(
      "windows.yaml", device_list("  - {type: block, name: disk0, port: 0x1f0, irq: 14}\n"
                                  "  - {type: oneshot, name: t, port: 0x1f8, irq: 5}\n"));
  auto c = platform::load_config(windows);
  c.workload = "none";
  EXPECT_EQ(error_of([&] { platform::validate(c); }),
            windows +
                ":3: key 'devices.t.port': ports [0x1f8, 0x200) overlap [0x1f0, 0x200) of "
                "devices.disk0.port (" +
                windows + ":2)");
  const std::string irqs =
      write_temp("irqs.yaml", device_list("  - {type: serial, name: com1, port: 0x3f8, irq: 4}\n"
                                          "  - {type: serial, name: com3, port: 0x3e8, irq: 4}\n"));
  c = platform::load_config(irqs);
  c.workload = "none";
  EXPECT_EQ(
      error_of([&] { platform::validate(c); }),
      irqs + ":3: key 'devices.com3.irq': IRQ4 is also devices.com1.irq (" + irqs +
          ":2): an edge-triggered line has one device (interrupt_controller.level_irqs makes a "
          "line level-triggered and shareable)");
  const std::string channels = write_temp(
      "dma.yaml",
      device_list("  - {type: block, name: disk0, port: 0x1f0, irq: 14, dma_channel: 2}\n"
                  "  - {type: block, name: disk1, port: 0x170, irq: 15, dma_channel: 2}\n"));
  c = platform::load_config(channels);
  c.workload = "none";
  EXPECT_EQ(error_of([&] { platform::validate(c); }),
            channels +
                ":3: key 'devices.disk1.dma_channel': DMA channel 2 is also "
                "devices.disk0.dma_channel (" +
                channels + ":2)");
  // The chipset's resources are claims too.
  platform::Config d;
  platform::apply_override(d, "devices.com1.irq=10");
  EXPECT_EQ(error_of([&] { platform::validate(d); }),
            "--set devices.com1.irq=10: key 'devices.com1.irq': IRQ10 is also dma.irq (default): "
            "an edge-triggered "
            "line has one device");
}

TEST(DeviceList, ADiskImageIsOneInstancesButAnInputMayBeShared) {
  const std::string path = write_temp(
      "shared.yaml",
      device_list("  - {type: block, name: disk0, port: 0x1f0, irq: 14, image: same.img}\n"
                  "  - {type: block, name: disk1, port: 0x170, irq: 15, dma_channel: 2, image: "
                  "./same.img}\n"
                  "  - {type: serial, name: com1, port: 0x3f8, irq: 4, input: in.txt}\n"
                  "  - {type: serial, name: com2, port: 0x2f8, irq: 3, input: in.txt}\n"));
  auto c = platform::load_config(path);
  c.workload = "none";
  EXPECT_EQ(error_of([&] { platform::validate(c); }),
            path + ":3: key 'devices.disk1.image': ./same.img is also devices.disk0.image (" +
                path + ":2): a file written in place is one key's alone");
  platform::apply_override(c, "devices.disk1.image=other.img");
  platform::validate(c);  // two serial ports reading one file is fine
  platform::apply_override(c, "devices.com2.output=" + c.device("com1")->settings.text("input"));
  EXPECT_NE(error_of([&] { platform::validate(c); })
                .find("key 'devices.com2.output': " + c.device("com1")->settings.text("input") +
                      " is also devices.com1.input"),
            std::string::npos);
}

TEST(DeviceList, OverridesNameAnInstanceThatExists) {
  platform::Config c;
  EXPECT_EQ(error_of([&] { platform::apply_override(c, "devices.disk9.size=1MiB"); }),
            "--set devices.disk9.size=1MiB: key 'devices.disk9.size': no device instance named "
            "'disk9' (instances: disk0, com1, oneshot0, oneshot1)");
  EXPECT_NE(error_of([&] {
              platform::apply_override(c, "devices.disk0.colour=red");
            }).find("unknown key for a block device"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              platform::apply_override(c, "devices.disk0.filters=nofilter");
            }).find("'nofilter' is not a filter driver type"),
            std::string::npos);
}

TEST(DeviceList, AWorkloadNamesAnInstanceThatExists) {
  platform::Config c;
  platform::apply_override(c, "workload.io.disk=disk7");
  EXPECT_EQ(error_of([&] { platform::validate(c); }),
            "--set workload.io.disk=disk7: key 'workload.io.disk': no device instance named "
            "'disk7' (block instances: "
            "disk0)");
  platform::apply_override(c, "workload.io.disk=com1");
  EXPECT_EQ(error_of([&] { platform::validate(c); }),
            "--set workload.io.disk=com1: key 'workload.io.disk': 'com1' is a serial device, not a "
            "block device");
}

TEST(DeviceList, EveryInstanceIsBuiltUnderItsName) {
  auto c = platform::load_config(IOCOSIM_SOURCE_DIR "/platform/configs/two-disks.yaml");
  c.workload = "none";
  c.out_vcd.clear();
  platform::apply_override(c, "devices.disk0.image=");
  platform::apply_override(c, "devices.disk1.image=");
  platform::validate(c);
  platform::Platform p("platform", c);
  ASSERT_EQ(p.devices.size(), 4u);
  EXPECT_STREQ(p.device("disk1")->model()->name(), "platform.disk1");
  EXPECT_EQ(p.model<hw::devices::BlockDevice>("disk1")->sectors(), 2048u);
  EXPECT_EQ(p.model<hw::devices::BlockDevice>("disk0")->sectors(), 8192u);
  EXPECT_EQ(p.model<hw::devices::BlockDevice>("com1"), nullptr) << "a serial device";
}

}  // namespace

namespace {

TEST(DeviceList, ADriverBindsOnlyToTheDevicesItServes) {
  platform::Config c;
  platform::apply_override(c, "devices.com1.driver=disk");
  EXPECT_EQ(error_of([&] { platform::validate(c); }),
            "--set devices.com1.driver=disk: key 'devices.com1.driver': driver disk serves block "
            "devices, not serial");
  platform::apply_override(c, "devices.com1.driver=serial");
  platform::apply_override(c, "devices.com1.filters=filter");
  EXPECT_EQ(error_of([&] { platform::validate(c); }),
            "--set devices.com1.filters=filter: key 'devices.com1.filters': filter filter stacks "
            "over block devices, not "
            "serial");
  platform::apply_override(c, "devices.com1.filters=");
  platform::apply_override(c, "devices.com1.driver=none");
  platform::validate(c);  // no driver at all is fine
}

}  // namespace

namespace {

TEST(DeviceList, ANameMayNotBeThePlatformsOwn) {
  for (const std::string name : {"dma", "cpu0", "disk0_irq", "irq5"}) {
    const std::string path =
        write_temp("reserved.yaml",
                   device_list("  - {type: serial, name: " + name + ", port: 0x2f8, irq: 3}\n"));
    EXPECT_NE(error_of([&] {
                platform::load_config(path);
              }).find(path + ":2: key 'devices[0].name': '" + name + "' "),
              std::string::npos)
        << name;
  }
}

}  // namespace

namespace {

TEST(DeviceList, DevicesShareALineOnlyWhenItIsLevelTriggered) {
  platform::Config c;
  platform::apply_override(c, "devices.oneshot1.irq=5");
  EXPECT_NE(error_of([&] { platform::validate(c); })
                .find("key 'devices.oneshot1.irq': IRQ5 is also devices.oneshot0.irq (default): an "
                      "edge-triggered line has one device (interrupt_controller.level_irqs"),
            std::string::npos);
  platform::apply_override(c, "interrupt_controller.level_irqs=5,9");
  platform::validate(c);  // shared, level-triggered
  // The chipset's own lines are never shared, nor made level-triggered where that cannot work.
  platform::apply_override(c, "interrupt_controller.level_irqs=0");
  EXPECT_NE(error_of([&] {
              platform::validate(c);
            }).find("key 'interrupt_controller.level_irqs': IRQ0 is the timer's"),
            std::string::npos);
  platform::apply_override(c, "interrupt_controller.level_irqs=2");
  EXPECT_NE(error_of([&] { platform::validate(c); }).find("IRQ2 is the cascade input"),
            std::string::npos);
  platform::apply_override(c, "interrupt_controller.level_irqs=5,10");
  platform::apply_override(c, "devices.oneshot1.irq=10");
  EXPECT_NE(error_of([&] {
              platform::validate(c);
            }).find("key 'devices.oneshot1.irq': IRQ10 is also dma.irq"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              platform::apply_override(c, "interrupt_controller.level_irqs=5,5");
            }).find("IRQ5 is listed twice"),
            std::string::npos);
}

}  // namespace
