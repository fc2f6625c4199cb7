// The DMA controller, the block device and the serial device at register level, driven by the
// CPU on the assembled platform (no software stack): what software sees, when, and what ends
// up in memory, in the disk image and on the serial line.
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "hw/core/pin.h"
#include "hw/core/sim_time.h"
#include "hw/core/traced.h"
#include "hw/core/vcd_writer.h"
#include "hw/devices/block_device.h"
#include "hw/devices/serial.h"
#include "hw/dma/dma.h"
#include "platform/config.h"
#include "platform/platform.h"
#include "tests/support/sc_test.h"

namespace {

using platform::Config;
using platform::Platform;
namespace dma = hw::dma;
namespace dev = hw::devices;

constexpr std::uint64_t kUs = 1'000'000;

std::string temp_path(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("iocosim-devices-" + std::to_string(static_cast<long>(::getpid())));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

std::string file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

Config quiet_config() {
  Config c;
  c.workload = "none";
  return c;
}

// The default platform's instances: disk0 and com1.
constexpr std::uint16_t kDiskPort = 0x1f0, kSerialPort = 0x3f8;
constexpr unsigned kDiskDmaChannel = 1;

void set(Config& c, const std::string& assignment) {
  platform::apply_override(c, assignment);
}
dev::BlockDevice& disk_of(Platform& p) {
  return *p.model<dev::BlockDevice>("disk0");
}
dev::Serial& serial_of(Platform& p) {
  return *p.model<dev::Serial>("com1");
}

// Runs `body` on the CPU and the simulation to its end.
void run(Platform& p, std::function<void()> body, double seconds = 1.0) {
  p.cpu.boot([&p, body] {
    body();
    p.cpu.power_off(0);
  });
  tests::run_for(sc_core::sc_time(seconds, sc_core::SC_SEC));
}

struct Faults : hw::TrapHandler {
  std::vector<hw::BusFault> faults;
  void interrupt(std::uint8_t) override {}
  void bus_error(const hw::BusFault& f) override { faults.push_back(f); }
};

// ---- DMA controller

struct DmaRegs {
  hw::Processor& cpu;
  std::uint16_t base;
  std::uint16_t ch(unsigned i, unsigned off) const {
    return static_cast<std::uint16_t>(base + dma::channel_base(i) + off);
  }
  void program(unsigned i, std::uint32_t src, std::uint32_t dst, std::uint32_t count) {
    cpu.outl(ch(i, 0x00), src);
    cpu.outl(ch(i, 0x04), dst);
    cpu.outl(ch(i, 0x08), count);
  }
  // direction, mode, width code: see hw/dma/dma.h.
  static std::uint32_t control(unsigned dir, unsigned mode, unsigned width_code = 2,
                               bool sg = false) {
    return dma::kCtrlEnable | (dir << dma::kCtrlDirShift) | dma::kCtrlSrcInc | dma::kCtrlDstInc |
           (mode << dma::kCtrlModeShift) | dma::kCtrlIe | (width_code << dma::kCtrlWidthShift) |
           (sg ? dma::kCtrlSg : 0u);
  }
  std::uint32_t status(unsigned i) { return cpu.inl(ch(i, 0x10)); }
  std::uint32_t error(unsigned i) { return cpu.inl(ch(i, 0x18)); }
  // Polls STATUS until the channel is no longer active.
  std::uint32_t wait_idle(unsigned i) {
    std::uint32_t s;
    while ((s = status(i)) & dma::kStatActive) cpu.consume(100);
    return s;
  }
};

TEST(Dma, MemoryToMemoryCopiesAndInterruptsAtTerminalCount) {
  Config c = quiet_config();
  Platform p("p", c);
  DmaRegs d{p.cpu, static_cast<std::uint16_t>(c.dma_port)};
  std::uint32_t status = 0, irq_status = 0, count_after = 1;
  bool line = false;
  run(p, [&] {
    for (std::uint32_t i = 0; i < 256; ++i) p.cpu.write32(0x1000 + 4 * i, i * 7 + 1);
    EXPECT_EQ(p.cpu.inl(c.dma_port + 4), 4u);  // CHANNELS
    d.program(0, 0x1000, 0x8000, 1024);
    p.cpu.outl(d.ch(0, 0x0c), DmaRegs::control(0, 0));
    status = d.wait_idle(0);
    p.cpu.consume(10);
    line = p.dma.irq.read();
    irq_status = p.cpu.inl(c.dma_port);
    count_after = p.cpu.inl(d.ch(0, 0x08));
    for (std::uint32_t i = 0; i < 256; ++i) EXPECT_EQ(p.cpu.read32(0x8000 + 4 * i), i * 7 + 1);
    p.cpu.outl(d.ch(0, 0x10), dma::kStatTc);  // acknowledge
    p.cpu.consume(10);
    EXPECT_FALSE(p.dma.irq.read());
  });
  EXPECT_EQ(status & (dma::kStatTc | dma::kStatError), dma::kStatTc);
  EXPECT_TRUE(line);
  EXPECT_EQ(irq_status, 1u);
  EXPECT_EQ(count_after, 0u);
  EXPECT_EQ(p.dma.stats(0).bytes, 1024u);
  EXPECT_EQ(p.bus.master_cycles(1), 512u);  // 256 units, a read and a write each
}

TEST(Dma, ScatterGatherFollowsTheDescriptorChain) {
  Config c = quiet_config();
  Platform p("p", c);
  DmaRegs d{p.cpu, static_cast<std::uint16_t>(c.dma_port)};
  std::uint32_t status = 0;
  run(p, [&] {
    // Three pieces of different sizes gathered into one contiguous buffer.
    const std::uint32_t pieces[3][2] = {{0x2000, 16}, {0x3000, 8}, {0x4000, 32}};
    std::uint32_t dst = 0x9000;
    for (int k = 0; k < 3; ++k) {
      for (std::uint32_t b = 0; b < pieces[k][1]; b += 4)
        p.cpu.write32(pieces[k][0] + b, 0x1000u * static_cast<std::uint32_t>(k + 1) + b);
      const std::uint32_t desc = 0x500 + 16 * static_cast<std::uint32_t>(k);
      p.cpu.write32(desc + 0, pieces[k][0]);
      p.cpu.write32(desc + 4, dst);
      p.cpu.write32(desc + 8, pieces[k][1]);
      p.cpu.write32(desc + 12, k == 2 ? 0 : desc + 16);
      dst += pieces[k][1];
    }
    p.cpu.outl(d.ch(2, 0x14), 0x500);
    p.cpu.outl(d.ch(2, 0x0c), DmaRegs::control(0, 1, 2, true));
    status = d.wait_idle(2);
    std::uint32_t at = 0x9000;
    for (int k = 0; k < 3; ++k) {
      for (std::uint32_t b = 0; b < pieces[k][1]; b += 4, at += 4)
        EXPECT_EQ(p.cpu.read32(at), 0x1000u * static_cast<std::uint32_t>(k + 1) + b);
    }
    EXPECT_EQ(p.cpu.read32(at), 0u) << "nothing past the gathered bytes";
  });
  EXPECT_EQ(status & (dma::kStatTc | dma::kStatError), dma::kStatTc);
  EXPECT_EQ(p.dma.stats(2).descriptors, 3u);
  EXPECT_EQ(p.dma.stats(2).bytes, 56u);
}

TEST(Dma, AnUndecodedAddressEndsTheChannelWithErrorAndTouchesNothing) {
  Config c = quiet_config();
  c.ram_size = 1 << 20;
  Platform p("p", c);
  DmaRegs d{p.cpu, static_cast<std::uint16_t>(c.dma_port)};
  std::uint32_t status = 0, error = 0, before = 0, after = 0;
  bool line = false;
  run(p, [&] {
    const std::uint32_t end = 1 << 20;
    p.cpu.write32(end - 16, 0xfeedface);
    before = p.cpu.read32(end - 16);
    // 64 bytes to 16 bytes before the end of RAM: the write runs off the end.
    d.program(0, 0x1000, end - 16, 64);
    p.cpu.outl(d.ch(0, 0x0c), DmaRegs::control(0, 0));
    status = d.wait_idle(0);
    error = d.error(0);
    p.cpu.consume(10);
    line = p.dma.irq.read();
    after = p.cpu.read32(end - 16);
  });
  EXPECT_EQ(status & (dma::kStatTc | dma::kStatError), dma::kStatError);
  EXPECT_EQ(error, static_cast<std::uint32_t>(dma::DmaError::bad_address));
  EXPECT_TRUE(line);
  EXPECT_EQ(before, after) << "memory inside RAM next to the bad range is untouched";
}

TEST(Dma, BadProgrammingIsAnErrorNotACrash) {
  Config c = quiet_config();
  Platform p("p", c);
  Faults faults;
  DmaRegs d{p.cpu, static_cast<std::uint16_t>(c.dma_port)};
  std::vector<std::uint32_t> errors;
  run(p, [&] {
    p.cpu.set_trap_handler(&faults);
    d.program(0, 0x1000, 0x2000, 0);  // zero count
    p.cpu.outl(d.ch(0, 0x0c), DmaRegs::control(0, 0));
    errors.push_back(d.error(0));
    d.program(0, 0x1000, 0x2000, 6);  // not a multiple of 4
    p.cpu.outl(d.ch(0, 0x0c), DmaRegs::control(0, 0));
    errors.push_back(d.error(0));
    d.program(0, 0x1000, 0x2000, 8);
    p.cpu.outl(d.ch(0, 0x0c), DmaRegs::control(3, 0));  // reserved direction
    errors.push_back(d.error(0));
    p.cpu.outl(d.ch(0, 0x0c), DmaRegs::control(1, 0));  // device direction, no device on 0
    errors.push_back(d.error(0));
    p.cpu.outl(d.ch(0, 0x0c), DmaRegs::control(0, 0, 2, true));  // SG with DESC 0
    errors.push_back(d.error(0));
    p.cpu.outw(d.ch(0, 0x00), 1);      // a 32-bit register written 16 bits wide
    p.cpu.outl(c.dma_port + 0x04, 9);  // CHANNELS is read-only
    p.cpu.inl(c.dma_port + 0xa0);      // past the last channel
  });
  using E = dma::DmaError;
  EXPECT_EQ(errors, (std::vector<std::uint32_t>{static_cast<std::uint32_t>(E::bad_count),
                                                static_cast<std::uint32_t>(E::bad_count),
                                                static_cast<std::uint32_t>(E::bad_control),
                                                static_cast<std::uint32_t>(E::no_device),
                                                static_cast<std::uint32_t>(E::bad_descriptor)}));
  EXPECT_EQ(faults.faults.size(), 3u);
  EXPECT_EQ(p.dma.stats(0).bytes, 0u);
}

TEST(Dma, SoftwareCanAbortAndWritesWhileActiveAreIgnored) {
  Config c = quiet_config();
  Platform p("p", c);
  DmaRegs d{p.cpu, static_cast<std::uint16_t>(c.dma_port)};
  std::uint32_t status = 0, error = 0, count_seen = 0;
  run(p, [&] {
    d.program(0, 0x1000, 0x100000, 0x80000);
    p.cpu.outl(d.ch(0, 0x0c), DmaRegs::control(0, 1));  // cycle-stealing: takes a while
    p.cpu.consume(30'000);                              // 300 us: two 4 KiB segments of 123 us each
    p.cpu.outl(d.ch(0, 0x08), 4);                       // ignored
    count_seen = p.cpu.inl(d.ch(0, 0x08));
    p.cpu.outl(d.ch(0, 0x0c), 0);  // abort
    status = d.wait_idle(0);
    error = d.error(0);
  });
  EXPECT_EQ(p.dma.stats(0).ignored_writes, 1u);
  EXPECT_GT(count_seen, 4u);
  EXPECT_LT(count_seen, 0x80000u) << "COUNT counts down as segments complete";
  EXPECT_EQ(status & (dma::kStatTc | dma::kStatError), dma::kStatError);
  EXPECT_EQ(error, static_cast<std::uint32_t>(dma::DmaError::aborted));
  EXPECT_LT(p.dma.stats(0).bytes, 0x80000u);
}

TEST(Dma, LowerChannelsHavePriorityAtSegmentBoundaries) {
  Config c = quiet_config();
  Platform p("p", c);
  DmaRegs d{p.cpu, static_cast<std::uint16_t>(c.dma_port)};
  run(p, [&] {
    d.program(3, 0x10000, 0x200000, 0x40000);
    d.program(0, 0x10000, 0x300000, 0x40000);
    p.cpu.outl(d.ch(3, 0x0c), DmaRegs::control(0, 1));  // channel 3 starts first
    p.cpu.outl(d.ch(0, 0x0c), DmaRegs::control(0, 1));
    d.wait_idle(3);
  });
  ASSERT_EQ(p.dma.stats(0).completed, 1u);
  ASSERT_EQ(p.dma.stats(3).completed, 1u);
  EXPECT_LT(p.dma.stats(0).last_end_ps, p.dma.stats(3).last_end_ps);
  // Channel 3 had the bus for one segment before channel 0 took over.
  EXPECT_EQ(p.dma.stats(3).segments, 0x40000u / c.dma_chunk);
}

// ---- block device

struct DiskRegs {
  hw::Processor& cpu;
  std::uint16_t base;
  void command(std::uint32_t lba, std::uint16_t count, std::uint8_t op) {
    cpu.outl(base + 0x4, lba);
    cpu.outw(base + 0x2, count);
    cpu.outb(base + 0x8, op);
  }
  std::uint8_t alt_status() { return cpu.inb(base + 0xc); }
  std::uint8_t wait_not_busy() {
    std::uint8_t s;
    while ((s = alt_status()) & dev::kBlkBusy) cpu.consume(100);
    return s;
  }
};

Config disk_config(const std::string& image) {
  Config c = quiet_config();
  set(c, "devices.disk0.image=" + image);
  set(c, "devices.disk0.size=64KiB");
  return c;
}

TEST(BlockDevice, PioWriteLandsInTheImageFileAndReadsBack) {
  const std::string image = temp_path("pio.img");
  std::filesystem::remove(image);
  Config c = disk_config(image);
  Platform p("p", c);
  DiskRegs r{p.cpu, kDiskPort};
  std::vector<std::uint16_t> back;
  run(p, [&] {
    r.command(3, 2, dev::kCmdWrite);
    for (unsigned s = 0; s < 2; ++s) {
      EXPECT_EQ(r.wait_not_busy() & dev::kBlkDrq, dev::kBlkDrq);
      for (unsigned w = 0; w < 256; ++w)
        p.cpu.outw(kDiskPort, static_cast<std::uint16_t>(s * 1000 + w));
    }
    EXPECT_EQ(r.wait_not_busy(), dev::kBlkDone);
    r.command(3, 2, dev::kCmdRead);
    for (unsigned s = 0; s < 2; ++s) {
      EXPECT_EQ(r.wait_not_busy() & dev::kBlkDrq, dev::kBlkDrq);
      for (unsigned w = 0; w < 256; ++w) back.push_back(p.cpu.inw(kDiskPort));
    }
    EXPECT_EQ(r.wait_not_busy(), dev::kBlkDone);
  });
  ASSERT_EQ(back.size(), 512u);
  for (unsigned s = 0; s < 2; ++s) {
    for (unsigned w = 0; w < 256; ++w) EXPECT_EQ(back[s * 256 + w], s * 1000 + w);
  }
  // Writes go to the host file as they happen.
  const std::string bytes = file_bytes(image);
  ASSERT_EQ(bytes.size(), 64u * 1024);
  std::uint16_t w = 0;
  std::memcpy(&w, &bytes[3 * 512 + 2 * 5], 2);
  EXPECT_EQ(w, 5u);
  std::memcpy(&w, &bytes[4 * 512 + 2 * 7], 2);
  EXPECT_EQ(w, 1007u);
  EXPECT_EQ(bytes[2 * 512 + 100], 0) << "the sector before is untouched";
  EXPECT_EQ(disk_of(p).stats().sectors_written, 2u);
  EXPECT_EQ(disk_of(p).stats().sectors_read, 2u);
}

TEST(BlockDevice, PhasesAreTimedFromTheConfig) {
  Config c = quiet_config();
  set(c, "devices.disk0.command_time=2us");
  set(c, "devices.disk0.seek_time=100us");
  set(c, "devices.disk0.sector_time=10us");
  set(c, "devices.disk0.flush_time=1ms");
  Platform p("p", c);
  DiskRegs r{p.cpu, kDiskPort};
  std::uint64_t issued = 0, drq = 0, issued2 = 0, drq2 = 0;
  run(p, [&] {
    r.command(10, 1, dev::kCmdRead);  // not where the head is: seek
    issued = p.cpu.now_ps();
    r.wait_not_busy();
    drq = p.cpu.now_ps();
    for (unsigned w = 0; w < 256; ++w) p.cpu.inw(kDiskPort);
    r.command(11, 1, dev::kCmdRead);  // sequential: no seek
    issued2 = p.cpu.now_ps();
    r.wait_not_busy();
    drq2 = p.cpu.now_ps();
  });
  // Polled every 1 us (100 cycles) plus the poll's own access: within 2 us of the model time.
  EXPECT_NEAR(static_cast<double>(drq - issued), 112.0 * kUs, 2.0 * kUs);
  EXPECT_NEAR(static_cast<double>(drq2 - issued2), 12.0 * kUs, 2.0 * kUs);
}

TEST(BlockDevice, OutOfRangeSetsErrorAndLeavesTheImageAlone) {
  const std::string image = temp_path("range.img");
  std::filesystem::remove(image);
  {
    std::ofstream f(image, std::ios::binary);
    f << std::string(64 * 1024, '\x5a');
  }
  Config c = disk_config(image);
  Platform p("p", c);
  DiskRegs r{p.cpu, kDiskPort};
  std::uint8_t status = 0, error = 0, data = 0;
  bool line = false, line_after = true;
  run(p, [&] {
    p.cpu.outb(kDiskPort + 0xa, dev::kBlkIe);
    r.command(127, 2, dev::kCmdWrite);  // sectors 127 and 128 of 128
    status = r.wait_not_busy();
    p.cpu.consume(10);
    line = disk_of(p).irq.read();
    error = p.cpu.inb(kDiskPort + 0xb);
    p.cpu.inb(kDiskPort + 0x9);  // STATUS acknowledges
    p.cpu.consume(10);
    line_after = disk_of(p).irq.read();
    data = static_cast<std::uint8_t>(p.cpu.inw(kDiskPort));  // no DRQ: a protocol error
  });
  EXPECT_EQ(status & (dev::kBlkError | dev::kBlkDone), dev::kBlkError | dev::kBlkDone);
  EXPECT_EQ(error, static_cast<std::uint8_t>(dev::BlockError::bad_range));
  EXPECT_TRUE(line);
  EXPECT_FALSE(line_after);
  EXPECT_EQ(data, 0xff);
  EXPECT_EQ(disk_of(p).stats().protocol_errors, 1u);
  EXPECT_EQ(file_bytes(image), std::string(64 * 1024, '\x5a'));
}

TEST(BlockDevice, IdentifyFlushUnknownCommandsAndCommandsWhileBusy) {
  Config c = disk_config("");
  Platform p("p", c);
  DiskRegs r{p.cpu, kDiskPort};
  std::uint16_t lo = 0, hi = 0;
  std::uint8_t flush = 0, unknown = 0, unknown_error = 0;
  run(p, [&] {
    r.command(0, 0, dev::kCmdIdentify);
    r.command(0, 1, dev::kCmdRead);  // while IDENTIFY runs: rejected
    r.wait_not_busy();
    for (unsigned w = 0; w < 256; ++w) {
      const std::uint16_t v = p.cpu.inw(kDiskPort);
      if (w == 60) lo = v;
      if (w == 61) hi = v;
    }
    r.command(0, 0, dev::kCmdFlush);
    flush = r.wait_not_busy();
    r.command(0, 0, 0x99);
    unknown = r.wait_not_busy();
    unknown_error = p.cpu.inb(kDiskPort + 0xb);
  });
  EXPECT_EQ(lo | (hi << 16), 128u) << "sector count in words 60-61";
  EXPECT_EQ(disk_of(p).stats().rejected, 1u);
  EXPECT_EQ(flush, dev::kBlkDone);
  EXPECT_EQ(disk_of(p).stats().flushes, 1u);
  EXPECT_EQ(unknown & dev::kBlkError, dev::kBlkError);
  EXPECT_EQ(unknown_error, static_cast<std::uint8_t>(dev::BlockError::bad_command));
}

TEST(BlockDevice, DmaReadAndWriteThroughTheChannel) {
  const std::string image = temp_path("dma.img");
  std::filesystem::remove(image);
  Config c = disk_config(image);
  Platform p("p", c);
  DiskRegs r{p.cpu, kDiskPort};
  DmaRegs d{p.cpu, static_cast<std::uint16_t>(c.dma_port)};
  const unsigned ch = kDiskDmaChannel;
  std::uint32_t wstatus = 0, rstatus = 0;
  run(p, [&] {
    for (std::uint32_t i = 0; i < 256; ++i) p.cpu.write32(0x4000 + 4 * i, 0xa5000000u + i);
    p.cpu.outb(kDiskPort + 0xa, dev::kBlkDma);
    // Memory -> device: two sectors to LBA 5.
    d.program(ch, 0x4000, 0, 1024);
    p.cpu.outl(d.ch(ch, 0x0c), DmaRegs::control(2, 0));
    r.command(5, 2, dev::kCmdWrite);
    wstatus = d.wait_idle(ch);
    r.wait_not_busy();
    // Device -> memory: read them back elsewhere.
    d.program(ch, 0, 0x6000, 1024);
    p.cpu.outl(d.ch(ch, 0x0c), DmaRegs::control(1, 2));
    r.command(5, 2, dev::kCmdRead);
    rstatus = d.wait_idle(ch);
    for (std::uint32_t i = 0; i < 256; ++i)
      EXPECT_EQ(p.cpu.read32(0x6000 + 4 * i), 0xa5000000u + i);
  });
  EXPECT_EQ(wstatus & dma::kStatTc, dma::kStatTc);
  EXPECT_EQ(rstatus & dma::kStatTc, dma::kStatTc);
  const std::string bytes = file_bytes(image);
  std::uint32_t v = 0;
  std::memcpy(&v, &bytes[5 * 512 + 4 * 200], 4);
  EXPECT_EQ(v, 0xa5000000u + 200);
}

TEST(BlockDevice, AnImageOfTheWrongSizeIsAConfigErrorNamingTheKey) {
  const std::string image = temp_path("small.img");
  { std::ofstream(image, std::ios::binary) << std::string(1000, 'x'); }
  Config c = disk_config(image);
  try {
    Platform p("p", c);
    FAIL() << "no error";
  } catch (const platform::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("devices.disk0.image"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("1000 bytes"), std::string::npos) << e.what();
  }
}

// ---- serial device

TEST(Serial, TransmitsAtTheBaudRateToTheOutputFile) {
  const std::string out = temp_path("tx.txt");
  Config c = quiet_config();
  set(c, "devices.com1.baud=100000");  // 100 us a character
  set(c, "devices.com1.fifo=4");
  set(c, "devices.com1.output=" + out);
  Platform p("p", c);
  std::uint8_t during = 0, after = 0;
  std::uint64_t t0 = 0, t_empty = 0;
  run(p, [&] {
    t0 = p.cpu.now_ps();
    for (char ch : std::string("hello!")) p.cpu.outb(kSerialPort, static_cast<std::uint8_t>(ch));
    during = p.cpu.inb(kSerialPort + 1);
    while (!(p.cpu.inb(kSerialPort + 1) & dev::kSerTxEmpty)) p.cpu.consume(100);
    t_empty = p.cpu.now_ps();
    after = p.cpu.inb(kSerialPort + 1);
  });
  serial_of(p).flush();
  // The FIFO holds 4 and the shifter starts on the first: "hello" fits, "!" is dropped.
  EXPECT_EQ(file_bytes(out), "hello");
  EXPECT_EQ(serial_of(p).stats().tx_dropped, 1u);
  EXPECT_EQ(during & dev::kSerTxEmpty, 0);
  EXPECT_EQ(after & dev::kSerTxEmpty, dev::kSerTxEmpty);
  EXPECT_NEAR(static_cast<double>(t_empty - t0), 5 * 100.0 * kUs, 3.0 * kUs);
}

TEST(Serial, ScriptedInputArrivesOnTimeAndOverrunIsCounted) {
  const std::string script = temp_path("rx.txt");
  { std::ofstream(script) << "# time text\n200us ab\\n\n1ms 0123456789\n"; }
  Config c = quiet_config();
  set(c, "devices.com1.baud=100000");
  set(c, "devices.com1.fifo=4");
  set(c, "devices.com1.input_script=" + script);
  Platform p("p", c);
  std::vector<std::uint8_t> got;
  std::uint64_t first = 0;
  std::uint8_t overrun = 0, overrun_again = 0;
  bool line = false;
  run(p, [&] {
    p.cpu.outb(kSerialPort + 2, dev::kSerRxIe);
    while (!(p.cpu.inb(kSerialPort + 1) & dev::kSerRxReady)) p.cpu.consume(100);
    first = p.cpu.now_ps();
    line = serial_of(p).irq.read();
    p.cpu.consume(50'000);  // 500 us: "b" and "\n" arrive
    while (p.cpu.inb(kSerialPort + 3) > 0) got.push_back(p.cpu.inb(kSerialPort));
    p.cpu.consume(200'000);  // 2 ms: ten characters into a FIFO of four, unread
    overrun = p.cpu.inb(kSerialPort + 1);
    overrun_again = p.cpu.inb(kSerialPort + 1);
  });
  EXPECT_EQ(std::string(got.begin(), got.end()), "ab\n");
  EXPECT_NEAR(static_cast<double>(first), 300.0 * kUs, 2.0 * kUs);  // 200 us + one character
  EXPECT_TRUE(line);
  EXPECT_EQ(overrun & dev::kSerOverrun, dev::kSerOverrun);
  EXPECT_EQ(overrun_again & dev::kSerOverrun, 0) << "reading STATUS clears OVERRUN";
  EXPECT_EQ(serial_of(p).stats().rx_overruns, 6u);
  EXPECT_EQ(serial_of(p).stats().rx_chars, 13u);
}

TEST(Serial, ABadInputScriptNamesTheFileAndLine) {
  const std::string script = temp_path("bad.txt");
  { std::ofstream(script) << "1ms ok\nsoon broken\n"; }
  Config c = quiet_config();
  set(c, "devices.com1.input_script=" + script);
  try {
    Platform p("p", c);
    FAIL() << "no error";
  } catch (const platform::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(script + ":2:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("devices.com1.input_script"), std::string::npos);
  }
}

// hw::Pin: a line is high while any of its drivers is; readers are called in the writer's call,
// once per change of the line (not of a driver), in the order they were bound.
TEST(Pin, ALineIsTheWiredOrOfItsDriversAndCallsItsReadersOnEachChange) {
  hw::Pin line{"line"};
  hw::PinOut a{"a"}, b{"b"};
  hw::PinIn first, second, unbound;
  std::vector<std::string> calls;
  first.on_change([&](bool v) { calls.push_back(std::string("first:") + (v ? "1" : "0")); });
  second.on_change([&](bool v) { calls.push_back(std::string("second:") + (v ? "1" : "0")); });
  a.bind(line);
  b.bind(line);
  first.bind(line);
  second.bind(line);
  EXPECT_EQ(line.drivers(), 2u);
  a.write(true);
  EXPECT_TRUE(line.read());
  EXPECT_TRUE(first.read());
  b.write(true);  // the line is already high: nobody is called
  a.write(false);
  EXPECT_TRUE(line.read()) << "b still drives it";
  b.write(false);
  EXPECT_FALSE(second.read());
  line.write(true);  // the line's own driver (a script's)
  a.write(true);
  line.write(false);
  EXPECT_TRUE(line.read()) << "a still drives it";
  EXPECT_EQ(calls, (std::vector<std::string>{"first:1", "second:1", "first:0", "second:0",
                                             "first:1", "second:1"}));
  EXPECT_FALSE(unbound.read()) << "an unbound input reads low";
  hw::PinOut lone{"lone"};
  lone.write(true);
  EXPECT_TRUE(lone.read()) << "an unbound output keeps its level";
  hw::Pin late{"late"};
  lone.bind(late);
  EXPECT_TRUE(late.read()) << "binding a high output drives the line";
}

// hw::Traced: a watched variable reports each real change, with its time and the values after
// and before, through every kind of assignment; a copy is the value, not the registration; an
// earlier writer's variables report nothing to a later one.
TEST(Traced, AWatchedVariableReportsItsChangesWithTheirTimeAndACopyIsOnlyItsValue) {
  auto& changes = hw::ChangeList::instance();
  changes.owner = &changes;  // stands in for a writer
  ++changes.generation;
  changes.changes.clear();
  hw::Traced<std::uint8_t> reg = 5;
  hw::Traced<bool> flag;
  reg.watch(2);
  flag.watch(0);
  reg = 5;  // the same value: no change
  EXPECT_TRUE(changes.changes.empty());
  reg |= 0x10;
  reg &= 0x1f;  // 0x15 still: no change
  ++reg;
  flag = true;
  auto seen = [&] {
    std::vector<std::string> out;
    for (const auto& c : changes.changes)
      out.push_back(std::to_string(c.var) + ":" + std::to_string(c.old) + "->" +
                    std::to_string(c.value));
    return out;
  };
  EXPECT_EQ(seen(), (std::vector<std::string>{"2:5->21", "2:21->22", "0:0->1"}));
  hw::Traced<std::uint8_t> copy = reg;
  EXPECT_FALSE(copy.watched());
  changes.changes.clear();
  copy = 1;
  EXPECT_TRUE(changes.changes.empty()) << "the copy is not watched";
  hw::Traced<std::int8_t> negative;
  negative.watch(3);
  negative = -1;
  EXPECT_EQ(changes.changes.back().value, 0xffu) << "an integer's bits, as the writer reads them";
  ++changes.generation;  // a new writer: the old registrations report nothing
  reg -= 6;
  EXPECT_EQ(changes.changes.size(), 1u);
  EXPECT_EQ(reg.value(), 0x10);
  changes.owner = nullptr;
  changes.changes.clear();
  reg = 0;  // no writer: nothing to report to, nothing breaks
}

}  // namespace

// A model whose traced state changes thousands of times, several times per instant (back and
// forth within one too), in a time unit of 1 ns (not the default picosecond; every change on a
// whole unit): iocosim's writer, which takes them in batches off the kernel's per-timestep calls
// (nothing is sampled), writes what SystemC's sampling writer does on the same run (from the
// timescale on: the date differs).
struct Churn : sc_core::sc_module {
  hw::Traced<bool> flag = false;
  hw::Traced<std::uint8_t> small = 0;
  hw::Traced<std::uint32_t> wide = 7;
  SC_HAS_PROCESS(Churn);
  explicit Churn(const sc_core::sc_module_name& n) : sc_module(n) { SC_THREAD(run); }
  void run() {
    for (unsigned i = 0; i < 3000; ++i) {
      flag = !flag;
      small = static_cast<std::uint8_t>(i * 37);
      if (i % 5 == 0) {
        wide = wide + 1;
        wide = wide - 1;  // back within the instant: no change to write
      }
      if (i % 3 == 0) wide = i * 2654435761u;
      if (i % 7 == 0) sc_core::wait(sc_core::SC_ZERO_TIME);  // another delta, same instant
      sc_core::wait(i % 4 == 0 ? 40 : 3, sc_core::SC_NS);
    }
  }
};

TEST(VcdWriter, BatchedChangesWriteWhatSystemCsSamplingWriterDoes) {
  const std::string ours_path = temp_path("ours.vcd"), theirs_base = temp_path("theirs");
  Churn churn("churn");
  hw::VcdWriter ours(ours_path);
  ASSERT_TRUE(ours.ok());
  sc_core::sc_trace_file* theirs = sc_core::sc_create_vcd_trace_file(theirs_base.c_str());
  for (sc_core::sc_trace_file* tf : {static_cast<sc_core::sc_trace_file*>(&ours), theirs}) {
    tf->set_time_unit(1, sc_core::SC_NS);
    hw::trace(tf, churn.flag, "churn.flag");
    hw::trace(tf, churn.small, "churn.small");
    hw::trace(tf, churn.wide, "churn.wide");
  }
  EXPECT_TRUE(churn.flag.watched()) << "iocosim's writer watches (it was traced first)";
  sc_core::sc_start(200, sc_core::SC_US);
  EXPECT_EQ(ours.close(), "");
  sc_core::sc_close_vcd_trace_file(theirs);
  auto body = [](const std::string& path) {
    const std::string text = file_bytes(path);
    const auto at = text.find("$timescale");
    return at == std::string::npos ? std::string() : text.substr(at);
  };
  const std::string a = body(ours_path), b = body(theirs_base + ".vcd");
  EXPECT_GT(std::count(a.begin(), a.end(), '#'), 1000) << "thousands of time stamps";
  EXPECT_EQ(a, b);
}
