#include "platform/workloads.h"

#include <fmt/format.h>

#include "hw/core/sim_time.h"
#include "hw/devices/block_device.h"
#include "sw/apps/dma_transfer.h"
#include "sw/apps/idle.h"
#include "sw/apps/io_apps.h"
#include "sw/apps/kernel_apps.h"
#include "sw/apps/paging_app.h"
#include "sw/drivers/timer/timer.h"
#include "util/units.h"

namespace platform {

std::map<std::uint64_t, std::string> HostedWorkload::irql_names() const {
  const hal::Hal& hal = const_cast<KernelHost&>(host_).hal();
  std::map<std::uint64_t, std::string> names = {
      {ke::kPassiveLevel, "PASSIVE"}, {ke::kApcLevel, "APC"}, {ke::kDispatchLevel, "DISPATCH"}};
  std::map<std::uint64_t, std::vector<unsigned>> irqs;
  for (unsigned irq = 0; irq < 16; ++irq) {
    if (!hal.apic() && irq == host_.config().pic_cascade_irq) continue;
    irqs[hal.irql_of_irq(irq)].push_back(irq);
  }
  for (const auto& [irql, list] : irqs) {
    std::string text;
    for (unsigned irq : list) text += (text.empty() ? "" : "/") + std::to_string(irq);
    const bool clock = list.front() == host_.config().timer_irq;
    names[irql] = fmt::format("{} (IRQ{})", clock ? "CLOCK" : fmt::format("DIRQL {}", irql), text);
  }
  names[hal.apic() ? 15 : ke::kHighLevel] = "HIGH";
  return names;
}

std::map<std::uint64_t, std::string> HostedWorkload::thread_names() const {
  std::map<std::uint64_t, std::string> names;
  if (!host_.booted()) return names;
  for (const auto& [id, name] : const_cast<KernelHost&>(host_).kernel().thread_names())
    names[static_cast<std::uint64_t>(id)] = name;
  return names;
}

std::map<std::uint64_t, std::string> HostedWorkload::routine_names() const {
  std::map<std::uint64_t, std::string> names;
  if (!host_.booted()) return names;
  const auto& list = const_cast<KernelHost&>(host_).kernel().routine_names();
  for (std::size_t i = 0; i < list.size(); ++i) names[i] = list[i];
  return names;
}

std::string require_instance(const Config& c, const std::string& section, const std::string& key,
                             const std::string& type, const std::string& driver) {
  const std::string path = fmt::format("workload.{}.{}", section, key);
  const std::string& name = c.workload_keys(section).text(key);
  const DeviceInstance* d = c.device(name);
  if (d == nullptr) {
    std::vector<std::string> names;
    for (const auto& i : c.devices) {
      if (i.type == type) names.push_back(i.name);
    }
    return fmt::format("{}: no device instance named '{}' ({} instances: {})", path, name, type,
                       names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", ")));
  }
  if (d->type != type)
    return fmt::format("{}: '{}' is a {} device, not a {} device", path, name, d->type, type);
  if (driver.empty() && d->bus != "isa")
    return fmt::format(
        "{}: '{}' is on PCI, but this workload programs it itself at the port "
        "and IRQ its keys fix: put it on bus: isa",
        path, name);
  if (!driver.empty() && d->driver != driver)
    return fmt::format("{}: '{}' has driver {}, not {} (devices.{}.driver)", path, name, d->driver,
                       driver, name);
  return {};
}

namespace {

hal::PicPorts pic_ports(const Config& c) {
  hal::PicPorts p;
  p.master = static_cast<std::uint16_t>(c.pic_master_port);
  p.slave = static_cast<std::uint16_t>(c.pic_slave_port);
  p.cascade = c.pic_cascade_irq;
  return p;
}

// A one-shot instance programmed directly by a kernel workload (no driver bound to it).
drivers::OneShotDriver::Params oneshot(const Config& c, const std::string& name) {
  const DeviceInstance* d = c.device(name);
  drivers::OneShotDriver::Params p;
  p.name = d->name.c_str();
  p.port = static_cast<std::uint16_t>(d->settings.number("port"));
  p.irq = d->settings.u32("irq");
  return p;
}

std::string period_check(const Config& c, const std::string& section) {
  const std::uint64_t ps = c.workload_keys(section).number("period");
  if (ps / 1000 > 0xffffffffull || ps < 1000)
    return fmt::format(
        "workload.{}.period: must be between 1ns and 4.29s (the device's 32-bit "
        "nanosecond register)",
        section);
  return {};
}

class NoWorkload : public Workload {
 public:
  void write_stats(util::JsonWriter& j) const override {
    j.begin_object("workload").field("kind", "none").end_object();
  }
  void print_summary(std::FILE*) const override {}
};

class IdleWorkload : public Workload {
 public:
  IdleWorkload(Platform& p, const Config& c) {
    apps::IdleParams params;
    params.pic = pic_ports(c);
    params.vector_base = static_cast<std::uint8_t>(c.workload_vector_base);
    params.timer_port = static_cast<std::uint16_t>(c.timer_port);
    params.timer_irq = c.timer_irq;
    params.timer_clock_hz = c.timer_clock_hz;
    params.tick_hz = c.workload_tick_hz;
    idle_ = std::make_unique<apps::IdleLoop>(p.cpu, params);
    p.cpu.boot([this] { idle_->run(); });
  }
  void write_stats(util::JsonWriter& j) const override {
    const auto& n = idle_->counts();
    j.begin_object("workload")
        .field("kind", "idle")
        .field("ticks", n.ticks)
        .field("spurious", n.spurious)
        .field("unexpected", n.unexpected)
        .field("bus_errors", n.bus_errors)
        .end_object();
  }
  void print_summary(std::FILE* out) const override {
    const auto& n = idle_->counts();
    std::fprintf(out, "  workload   idle: %llu timer ticks, %llu spurious, %llu unexpected\n",
                 static_cast<unsigned long long>(n.ticks),
                 static_cast<unsigned long long>(n.spurious),
                 static_cast<unsigned long long>(n.unexpected));
  }
  bool healthy() const override {
    return idle_->counts().unexpected + idle_->counts().bus_errors == 0;
  }

 private:
  std::unique_ptr<apps::IdleLoop> idle_;
};

// The I/O workload: applications over the I/O manager and the drivers the host booted from
// the device list, with compute threads beside them.
class IoWorkload : public HostedWorkload {
 public:
  IoWorkload(Platform& p, const Config& c) : HostedWorkload(p, c), keys_(c.workload_keys("io")) {
    host().boot([this] { main(); }, /*with_io=*/true);
  }

  bool healthy() const override {
    return counts().mismatches == 0 && counts().errors == 0 && host().started(used());
  }

 protected:
  void workload_stats(util::JsonWriter& j) const override {
    const auto& a = counts();
    j.field("app", keys_.text("app"))
        .field("disk", keys_.text("disk"))
        .field("requests", a.requests)
        .field("bytes", a.bytes)
        .field("passes", a.passes)
        .field("mismatches", a.mismatches)
        .field("errors", a.errors)
        .field("compute_chunks", compute_chunks_)
        .field("timer_waits", ticks_)
        .field("echoed", echo_ ? echo_->counts().bytes : 0);
  }
  void workload_summary(std::FILE* out) const override {
    const auto& a = counts();
    std::fprintf(
        out,
        "  workload   io (%s on %s): %llu requests, %llu bytes, %llu passes, %llu "
        "mismatches, %llu errors; %llu compute chunks\n",
        keys_.text("app").c_str(), keys_.text("disk").c_str(),
        static_cast<unsigned long long>(a.requests), static_cast<unsigned long long>(a.bytes),
        static_cast<unsigned long long>(a.passes), static_cast<unsigned long long>(a.mismatches),
        static_cast<unsigned long long>(a.errors),
        static_cast<unsigned long long>(compute_chunks_));
  }

 private:
  // The instances this run opens.
  std::vector<std::string> used() const {
    std::vector<std::string> u;
    if (keys_.text("app") != "none") u.push_back(keys_.text("disk"));
    if (!keys_.text("copy_to").empty()) u.push_back(keys_.text("copy_to"));
    if (keys_.flag("serial_echo")) u.push_back(keys_.text("serial"));
    if (keys_.number("timer_period") != 0) u.push_back(keys_.text("timer"));
    return u;
  }

  const apps::DiskAppCounts& counts() const {
    static const apps::DiskAppCounts none;
    return copy_ ? copy_->counts() : exerciser_ ? exerciser_->counts() : none;
  }

  void main() {
    ke::Kernel& kernel = host().kernel();
    io::IoManager& io = host().io();
    hw::Processor& cpu = kernel.cpu();
    apps::DiskAppParams ap;
    ap.path = KernelHost::device_path(keys_.text("disk"));
    ap.first_lba = keys_.number("first_lba");
    ap.sectors = keys_.number("sectors");
    ap.request_sectors = keys_.u32("request_sectors");
    ap.passes = keys_.number("passes");
    ap.random = keys_.text("app") == "random";
    ap.queue_depth = keys_.u32("queue_depth");
    const std::string& to = keys_.text("copy_to");
    ap.copy_to_path = to.empty() ? "" : KernelHost::device_path(to);
    ap.copy_to_lba = to.empty() ? ap.first_lba + ap.sectors : ap.first_lba;
    if (keys_.text("app") == "copy") {
      copy_ = std::make_unique<apps::FileCopy>(io, ap);
    } else if (keys_.text("app") != "none") {
      exerciser_ = std::make_unique<apps::DiskExerciser>(io, ap);
    }
    if (keys_.flag("serial_echo"))
      echo_ = std::make_unique<apps::SerialEcho>(io, KernelHost::device_path(keys_.text("serial")));
    for (unsigned i = 0; i < keys_.u32("compute_threads"); ++i)
      kernel.create_thread(fmt::format("compute{}", i), 8, [this, &cpu] {
        for (;;) {
          cpu.consume(5000, 0.3);
          ++compute_chunks_;
        }
      });
    if (echo_) kernel.create_thread("echo", 13, [this] { echo_->main(); });
    if (keys_.number("timer_period") != 0) kernel.create_thread("ticker", 14, [this] { ticker(); });
    kernel.set_priority_thread(*kernel.current_thread(), 12);
    // The devices it uses must have started; another one left stopped does not matter here
    // (the machine runs on with it, as Windows does with a device Device Manager flags).
    if (!host().started(used())) {
      cpu.power_off(1);
      return;
    }
    if (copy_) {
      copy_->main();
    } else if (exerciser_) {
      exerciser_->main();
    } else {
      for (;;) kernel.delay_execution(1'000'000'000'000ull);  // no disk application
    }
    cpu.power_off(healthy() ? 0 : 1);
  }

  // Waits on the timer driver round after round: each wait an IRP through StartIo, the
  // one-shot's interrupt, the DPC and completion.
  void ticker() {
    io::IoManager& io = host().io();
    io::Handle h;
    if (io.open(KernelHost::device_path(keys_.text("timer")), h) != io::Status::success) return;
    const std::uint64_t in = host().pool().allocate(4);
    host().kernel().cpu().write32(in,
                                  static_cast<std::uint32_t>(keys_.number("timer_period") / 1000));
    for (;;) {
      io::IoStatusBlock st;
      if (io.device_control(h, drivers::kIoctlTimerWait, in, 4, 0, 0, st) != io::Status::success)
        return;  // a failed wait ends the thread: retrying at once would spin in zero time
      ++ticks_;
    }
  }

  Settings keys_;
  std::unique_ptr<apps::DiskExerciser> exerciser_;
  std::unique_ptr<apps::FileCopy> copy_;
  std::unique_ptr<apps::SerialEcho> echo_;
  std::uint64_t ticks_ = 0, compute_chunks_ = 0;
};

// Kernel workloads that program one-shot devices themselves (no I/O manager, no drivers).
class SystemWorkload : public HostedWorkload {
 public:
  SystemWorkload(Platform& p, const Config& c) : HostedWorkload(p, c) {
    host().boot(
        [this] {
          const Config& c = host().config();
          const Settings& k = c.workload_keys("system");
          apps::SystemWorkload::Params sp;
          sp.device = oneshot(c, k.text("device"));
          sp.period_ns = static_cast<std::uint32_t>(k.number("period") / 1000);
          app_ = std::make_unique<apps::SystemWorkload>(host().kernel(), sp);
          app_->main();
        },
        false);
  }
  bool healthy() const override { return !app_ || app_->counts().timeouts == 0; }
  std::uint64_t device_interrupts() const override {
    return app_ ? app_->device().interrupts() : 0;
  }

 protected:
  void workload_stats(util::JsonWriter& j) const override {
    if (!app_) return;
    j.field("rounds", app_->counts().rounds)
        .field("timeouts", app_->counts().timeouts)
        .field("compute_chunks", app_->counts().compute_chunks)
        .field("device_interrupts", app_->device().interrupts());
  }
  void workload_summary(std::FILE* out) const override {
    if (!app_) return;
    std::fprintf(out,
                 "  workload   system: %llu device rounds (%llu timeouts), %llu compute chunks\n",
                 static_cast<unsigned long long>(app_->counts().rounds),
                 static_cast<unsigned long long>(app_->counts().timeouts),
                 static_cast<unsigned long long>(app_->counts().compute_chunks));
  }

 private:
  std::unique_ptr<apps::SystemWorkload> app_;
};

class NestedWorkload : public HostedWorkload {
 public:
  NestedWorkload(Platform& p, const Config& c) : HostedWorkload(p, c) {
    host().boot(
        [this] {
          const Config& c = host().config();
          const Settings& k = c.workload_keys("nested");
          app_ = std::make_unique<apps::NestedInterrupts>(
              host().kernel(), oneshot(c, k.text("low")), oneshot(c, k.text("high")));
          app_->main();
        },
        false);
  }

 private:
  std::unique_ptr<apps::NestedInterrupts> app_;
};

class DeviceLoopWorkload : public HostedWorkload {
 public:
  DeviceLoopWorkload(Platform& p, const Config& c) : HostedWorkload(p, c) {
    host().boot(
        [this] {
          const Config& c = host().config();
          const Settings& k = c.workload_keys("device_loop");
          app_ = std::make_unique<apps::DeviceLoop>(
              host().kernel(), oneshot(c, k.text("device")),
              static_cast<std::uint32_t>(k.number("period") / 1000));
          app_->main();
        },
        false);
  }
  std::uint64_t device_interrupts() const override {
    return app_ ? app_->device().interrupts() : 0;
  }

 private:
  std::unique_ptr<apps::DeviceLoop> app_;
};

class BugcheckWorkload : public HostedWorkload {
 public:
  BugcheckWorkload(Platform& p, const Config& c) : HostedWorkload(p, c) {
    const Settings& k = c.workload_keys("bugcheck");
    if (k.text("rule") == "paged-pool-in-dpc") {
      // The memory manager's rule: the kernel host with I/O and paging; the one-shot is the
      // misbehaving driver's own.
      host().boot(
          [this] {
            const Config& c = host().config();
            auto device = oneshot(c, c.workload_keys("bugcheck").text("device"));
            device.driver = "\\Driver\\PagedBug";
            paged_ = std::make_unique<apps::PagedPoolInDpc>(host().kernel(), host().mm(), device);
            paged_->main();
          },
          true, {k.text("device")});
      return;
    }
    host().boot(
        [this] {
          const Config& c = host().config();
          const Settings& k = c.workload_keys("bugcheck");
          app_ = std::make_unique<apps::Misbehave>(host().kernel(), k.text("rule"),
                                                   oneshot(c, k.text("device")));
          app_->main();
        },
        false);
  }

 protected:
  void workload_stats(util::JsonWriter& j) const override {
    j.field("rule", host().config().workload_keys("bugcheck").text("rule"));
    if (paged_) j.field("paged_buffer", paged_->buffer()).field("dpc_reads", paged_->dpc_reads());
  }

 private:
  std::unique_ptr<apps::Misbehave> app_;
  std::unique_ptr<apps::PagedPoolInDpc> paged_;
};

// Threads of an application touching a working set bigger than RAM through the memory manager.
class PagingWorkload : public HostedWorkload {
 public:
  PagingWorkload(Platform& p, const Config& c) : HostedWorkload(p, c) {
    host().boot(
        [this] {
          const Settings& k = host().config().workload_keys("paging");
          apps::PagingApp::Params ap;
          ap.working_set = k.number("working_set");
          ap.threads = k.u32("threads");
          ap.passes = k.number("passes");
          ap.compute_threads = k.u32("compute_threads");
          app_ = std::make_unique<apps::PagingApp>(host().kernel(), host().mm(), ap);
          app_->main();
          host().kernel().cpu().power_off(healthy() ? 0 : 1);
        },
        true);
  }
  bool healthy() const override {
    return !app_ || (app_->counts().mismatches == 0 && app_->counts().access_violations == 0);
  }

 protected:
  void workload_stats(util::JsonWriter& j) const override {
    static const apps::PagingApp::Counts kNone;  // before boot: zeros, every key present
    const auto& n = app_ ? app_->counts() : kNone;
    j.field("working_set", host().config().workload_keys("paging").number("working_set"))
        .field("passes", n.passes)
        .field("pages_written", n.pages_written)
        .field("pages_checked", n.pages_checked)
        .field("words_checked", n.words_checked)
        .field("mismatches", n.mismatches)
        .field("access_violations", n.access_violations)
        .field("compute_chunks", n.compute_chunks);
    // Rates over the workers' run (to the end of the simulation if they did not finish): the
    // sweep's throughput and fault rate.
    auto& h = const_cast<KernelHost&>(host());  // reading the clock and counts changes nothing
    const std::uint64_t end = n.end_ps != 0 ? n.end_ps : h.booted() ? h.kernel().cpu().now_ps() : 0;
    const double seconds = end > n.start_ps ? static_cast<double>(end - n.start_ps) / 1e12 : 0.0;
    const std::uint64_t hard = h.has_mm() ? h.mm().stats().hard : 0;
    j.field("elapsed_s", seconds)
        .field("pages_per_s",
               seconds > 0 ? static_cast<double>(n.pages_written + n.pages_checked) / seconds : 0.0)
        .field("hard_faults_per_s", seconds > 0 ? static_cast<double>(hard) / seconds : 0.0);
  }
  void workload_summary(std::FILE* out) const override {
    if (!app_) return;
    const auto& n = app_->counts();
    std::fprintf(out,
                 "  workload   paging: %llu passes, %llu pages written, %llu pages checked "
                 "(%llu words), %llu mismatches, %llu access violations; %llu compute chunks\n",
                 static_cast<unsigned long long>(n.passes),
                 static_cast<unsigned long long>(n.pages_written),
                 static_cast<unsigned long long>(n.pages_checked),
                 static_cast<unsigned long long>(n.words_checked),
                 static_cast<unsigned long long>(n.mismatches),
                 static_cast<unsigned long long>(n.access_violations),
                 static_cast<unsigned long long>(n.compute_chunks));
  }

 private:
  std::unique_ptr<apps::PagingApp> app_;
};

// One DMA block transfer while the CPU computes; statistics of the transfer's own window.
class DmaTransferWorkload : public Workload {
 public:
  DmaTransferWorkload(Platform& p, const Config& c) : platform_(p), keys_(c.workload_keys("dma")) {
    apps::DmaTransferParams a;
    a.pic = pic_ports(c);
    a.vector_base = static_cast<std::uint8_t>(c.workload_vector_base);
    a.dma_port = static_cast<std::uint16_t>(c.dma_port);
    a.dma_irq = c.dma_irq;
    a.from_disk = keys_.text("source") == "disk";
    a.channel = channel(c);
    const std::string& mode = keys_.text("mode");
    a.mode = mode == "burst" ? 0 : mode == "cycle-stealing" ? 1 : 2;
    a.width = keys_.u32("width");
    if (a.from_disk)
      a.disk_port =
          static_cast<std::uint16_t>(c.device(keys_.text("disk"))->settings.number("port"));
    a.bytes = static_cast<std::uint32_t>(keys_.number("bytes"));
    a.src = static_cast<std::uint32_t>(c.ram_base + 0x10000);
    a.dst = static_cast<std::uint32_t>(c.ram_base + 0x10000 + (a.from_disk ? 0 : a.bytes));
    a.cpu_bus_share = keys_.real("cpu_bus_share");
    channel_ = a.channel;
    bus_steal_gap_ = c.bus_steal_gap;
    app_ = std::make_unique<apps::DmaTransfer>(p.cpu, a);
    p.cpu.boot([this] {
      app_->run([this] { start_ = snapshot(); }, [this] { end_ = snapshot(); });
      platform_.cpu.power_off(healthy() ? 0 : 1);
    });
  }

  // The channel: the disk's (wired to its DREQ) from the disk; memory to memory the first
  // channel no device is wired to.
  static unsigned channel(const Config& c) {
    const Settings& k = c.workload_keys("dma");
    if (k.text("source") == "disk") return c.device(k.text("disk"))->settings.u32("dma_channel");
    for (unsigned ch = 0; ch < c.dma_channels; ++ch) {
      bool used = false;
      for (const auto& d : c.devices)
        used = used || (d.settings.has("dma_channel") && d.settings.u32("dma_channel") == ch);
      if (!used) return ch;
    }
    return c.dma_channels;  // none free: the check refuses the config
  }

  // The analytic transfer time in bus cycles (hw/bus/arbiter.h), for a device that is not the
  // bottleneck: burst U*c, cycle-stealing U*(c+g), transparent U*c/(1-f).
  double expected_cycles() const {
    const double units = static_cast<double>(keys_.number("bytes") / keys_.number("width"));
    const double c = keys_.text("source") == "memory" ? 2.0 : 1.0;
    const double g = bus_steal_gap_;
    if (keys_.text("mode") == "burst") return units * c;
    if (keys_.text("mode") == "cycle-stealing") return units * (c + g);
    const double f = keys_.real("cpu_bus_share");
    return f >= 1.0 ? 0.0 : units * c / (1.0 - f);
  }

  void write_stats(util::JsonWriter& j) const override {
    const auto& r = app_->result();
    const auto& d = platform_.dma.stats(channel_);
    const std::uint64_t bytes = keys_.number("bytes");
    const std::uint64_t bus_cycle_ps = hw::to_ps(platform_.bus.cycle());
    const auto cycle_ps = static_cast<double>(bus_cycle_ps);
    const double transfer_cycles = static_cast<double>(d.busy_ps) / cycle_ps;
    const double window_ps = static_cast<double>(r.end_ps - r.start_ps);
    const double capacity =
        window_ps * 1e-12 * static_cast<double>(platform_.cpu.clock_hz());  // CPU cycles
    const std::uint64_t dma_cycles = end_.dma_cycles - start_.dma_cycles;
    const std::uint64_t cpu_cycles = end_.cpu_cycles - start_.cpu_cycles;
    // Whole bus cycles: the window covers every bus cycle it touches, from the one the channel
    // was enabled in to the one the interrupt handler saw the end in (masters are accounted in
    // whole cycles, so a fractional window would put the utilization above 1).
    const std::uint64_t window_cycles =
        (r.end_ps + bus_cycle_ps - 1) / bus_cycle_ps - r.start_ps / bus_cycle_ps;
    const std::uint64_t stall_cycles = (end_.stall_ps - start_.stall_ps) / bus_cycle_ps;
    j.begin_object("workload")
        .field("kind", "dma-transfer")
        .field("mode", keys_.text("mode"))
        .field("source", keys_.text("source"))
        .field("bytes", bytes)
        .field("width", keys_.number("width"))
        .field("cpu_bus_share", keys_.real("cpu_bus_share"))
        .field("channel", channel_)
        .field("completed", r.completed)
        .field("verified", r.verified)
        .field("transfer_ps", d.busy_ps)
        .field("transfer_bus_cycles", transfer_cycles)
        .field("expected_bus_cycles", expected_cycles())
        .field("throughput_MBps", d.busy_ps ? static_cast<double>(bytes) /
                                                  (static_cast<double>(d.busy_ps) * 1e-12) / 1e6
                                            : 0.0)
        .field("window_ps", r.end_ps - r.start_ps)
        .field("dma_bus_cycles", dma_cycles)
        .field("cpu_bus_cycles", cpu_cycles)
        .field("cpu_stall_cycles", stall_cycles)
        .field("work_cycles", r.work_cycles)
        .field("work_capacity_cycles", capacity)
        .field("work_rate", capacity > 0 ? static_cast<double>(r.work_cycles) / capacity : 0.0)
        .field("window_bus_cycles", window_cycles)
        .field("bus_utilization", window_cycles > 0 ? static_cast<double>(dma_cycles + cpu_cycles) /
                                                          static_cast<double>(window_cycles)
                                                    : 0.0)
        .field("interrupts", r.interrupts)
        .field("unexpected_interrupts", r.unexpected)
        .field("bus_errors", r.bus_errors)
        .end_object();
  }

  void print_summary(std::FILE* out) const override {
    const auto& r = app_->result();
    const auto& d = platform_.dma.stats(channel_);
    std::fprintf(
        out,
        "  workload   dma-transfer: %llu bytes %s, %s, in %s (%.0f bus cycles; "
        "analytic %.0f); CPU work %llu cycles; %s\n",
        static_cast<unsigned long long>(keys_.number("bytes")), keys_.text("source").c_str(),
        keys_.text("mode").c_str(), util::format_time(d.busy_ps).c_str(),
        static_cast<double>(d.busy_ps) / static_cast<double>(hw::to_ps(platform_.bus.cycle())),
        expected_cycles(), static_cast<unsigned long long>(r.work_cycles),
        r.completed ? (r.verified ? "data verified" : "DATA MISMATCH") : "NOT COMPLETED");
  }

  unsigned dma_channel() const override { return channel_; }
  bool healthy() const override {
    const auto& r = app_->result();
    return r.completed && r.verified && r.unexpected == 0 && r.bus_errors == 0;
  }

 private:
  struct Snapshot {
    std::uint64_t dma_cycles = 0, cpu_cycles = 0, stall_ps = 0;
  };
  Snapshot snapshot() const {
    // Master 0 is the CPU, 1 the DMA controller (Platform's constructor).
    return {platform_.bus.master_cycles(1), platform_.bus.master_cycles(0),
            platform_.cpu.stats().stall_ps};
  }

  Platform& platform_;
  Settings keys_;
  unsigned channel_ = 0, bus_steal_gap_ = 1;
  std::unique_ptr<apps::DmaTransfer> app_;
  Snapshot start_, end_;
};

template <typename T>
std::function<std::unique_ptr<Workload>(Platform&, const Config&)> make() {
  return [](Platform& p, const Config& c) { return std::make_unique<T>(p, c); };
}

std::string check_io(const Config& c) {
  const Settings& k = c.workload_keys("io");
  if (std::string e = require_instance(c, "io", "disk", "block", "disk"); !e.empty()) return e;
  const std::string& to = k.text("copy_to");
  if (!to.empty()) {
    if (std::string e = require_instance(c, "io", "copy_to", "block", "disk"); !e.empty()) return e;
  }
  if (k.flag("serial_echo")) {
    if (std::string e = require_instance(c, "io", "serial", "serial", "serial"); !e.empty())
      return e;
  }
  if (k.number("timer_period") != 0) {
    if (std::string e = require_instance(c, "io", "timer", "oneshot", "timer"); !e.empty())
      return e;
    if (k.number("timer_period") / 1000 > 0xffffffffull)
      return "workload.io.timer_period: above 4.29 s (the device's 32-bit nanoseconds)";
  }
  const bool copy = k.text("app") == "copy";
  const bool same = to.empty() || to == k.text("disk");
  auto sectors_of = [&](const std::string& name) {
    return c.device(name)->settings.number("size") / hw::devices::kSectorSize;
  };
  const std::uint64_t first = k.number("first_lba"), n = k.number("sectors");
  const std::uint64_t end = copy && same ? first + 2 * n : first + n;
  if (end > sectors_of(k.text("disk")))
    return fmt::format(
        "workload.io.sectors: the region ends at sector {}, past the disk's {} "
        "(devices.{}.size){}",
        end, sectors_of(k.text("disk")), k.text("disk"),
        copy && same ? "; a copy on one disk needs twice the region" : "");
  if (copy && !same && first + n > sectors_of(to))
    return fmt::format(
        "workload.io.sectors: the copy ends at sector {}, past {}'s {} (devices.{}.size)",
        first + n, to, sectors_of(to), to);
  if (c.ram_size < (4ull << 20)) return "memory.ram.size: the io workload needs 4 MiB of RAM";
  return {};
}

// The workloads without a kernel program the 8259A pair and take its interrupts themselves;
// under the APIC HAL the pair is masked and every interrupt comes through the I/O APIC, so they
// would wait forever for an interrupt that never arrives.
std::string check_pic_only(const Config& c, const char* workload) {
  if (c.hal != "apic") return {};
  return fmt::format(
      "hal: the {} workload runs without a kernel and takes its interrupts from the 8259A pair "
      "itself; it needs hal: pic",
      workload);
}

std::string check_dma(const Config& c) {
  if (std::string e = check_pic_only(c, "dma-transfer"); !e.empty()) return e;
  const Settings& k = c.workload_keys("dma");
  const std::uint64_t bytes = k.number("bytes"), width = k.number("width");
  if (width != 1 && width != 2 && width != 4) return "workload.dma.width: must be 1, 2 or 4";
  if (bytes % width != 0) return "workload.dma.bytes: not a multiple of workload.dma.width";
  if (bytes > 0xffffffffull) return "workload.dma.bytes: above the 32-bit COUNT register";
  const bool disk = k.text("source") == "disk";
  const std::uint64_t need = disk ? bytes + 0x10000 : 2 * bytes + 0x10000;
  if (need > c.ram_size)
    return fmt::format("workload.dma.bytes: needs {} bytes of RAM (memory.ram.size is {})", need,
                       c.ram_size);
  if (disk) {
    if (std::string e = require_instance(c, "dma", "disk", "block"); !e.empty()) return e;
    const std::string& name = k.text("disk");
    if (bytes > c.device(name)->settings.number("size"))
      return fmt::format("workload.dma.bytes: larger than the disk (devices.{}.size)", name);
    if (bytes % hw::devices::kSectorSize != 0)
      return "workload.dma.bytes: the disk moves whole 512-byte sectors";
  } else if (DmaTransferWorkload::channel(c) >= c.dma_channels) {
    return "workload.dma.source: every DMA channel is wired to a device; memory to memory needs "
           "a free one (dma.channels)";
  }
  return {};
}

}  // namespace

std::unique_ptr<Workload> Workload::create(Platform& platform, const Config& config) {
  const WorkloadType* t = workload_types().find(config.workload);
  if (t == nullptr) throw ConfigError(fmt::format("unknown workload type '{}'", config.workload));
  return t->create(platform, config);
}

namespace builtin {

void register_workloads(Registry<WorkloadType>& r) {
  r.add({"io",
         "the kernel host with the I/O manager and the drivers of the device list; an "
         "application reading and writing a disk through the whole stack, compute threads",
         "io",
         {choice_key("app", {"sequential", "random", "copy", "none"},
                     "sequential = write a region, read it back, check it; random = the same "
                     "with random reads; copy = copy a region and check the copy; none = no "
                     "disk application"),
          name_key("disk", "disk0", "the block instance the application opens (\\??\\<name>)"),
          name_key("copy_to", "",
                   "copy: the block instance copied to, at the same sectors; empty = the same "
                   "disk, the region after the source"),
          integer_key("first_lba", 0, 0, 0xffffffff, "first sector of the region"),
          integer_key("sectors", 256, 1, 0xffffffff, "sectors in the region"),
          integer_key("request_sectors", 8, 1, 0xffff, "sectors per request"),
          integer_key("passes", 0, 0, 1'000'000'000, "passes over the region; 0 = until sim.until"),
          integer_key("queue_depth", 1, 1, 64,
                      "reads in flight at once (above 1: asynchronous requests, queued by the "
                      "disk's StartIo in LBA order)"),
          integer_key("compute_threads", 1, 0, 16, "threads computing alongside the application"),
          boolean_key("serial_echo", false,
                      "a thread echoing what arrives on the serial instance back to it"),
          name_key("serial", "com1", "the serial instance the echo thread opens"),
          duration_key("timer_period", "0ns",
                       "a thread waiting on the timer driver (IOCTL_TIMER_WAIT) this long, round "
                       "after round; 0 = none"),
          name_key("timer", "oneshot0", "the one-shot instance the timer thread waits on")},
         check_io,
         make<IoWorkload>()});
  r.add({"system",
         "the kernel with a compute thread and a device thread waiting on a one-shot device's "
         "DPC round after round",
         "system",
         {duration_key("period", "500us", "time between the device's interrupts"),
          name_key("device", "oneshot0", "the one-shot instance the device thread programs")},
         [](const Config& c) {
           std::string e = require_instance(c, "system", "device", "oneshot");
           return e.empty() ? period_check(c, "system") : e;
         },
         make<SystemWorkload>()});
  r.add(
      {"nested-interrupts",
       "the textbook nested ISR/DPC sequence: a higher-priority device interrupts a "
       "lower one's ISR",
       "nested",
       {name_key("low", "oneshot0", "the lower-priority one-shot instance (interrupts first)"),
        name_key("high", "oneshot1", "the higher-priority one-shot instance (a lower IRQ number)")},
       [](const Config& c) -> std::string {
         for (const char* k : {"low", "high"}) {
           if (std::string e = require_instance(c, "nested", k, "oneshot"); !e.empty()) return e;
         }
         const Settings& k = c.workload_keys("nested");
         const unsigned low = c.device(k.text("low"))->settings.u32("irq");
         const unsigned high = c.device(k.text("high"))->settings.u32("irq");
         if (ke::irql_of_irq(high) <= ke::irql_of_irq(low))
           return fmt::format(
               "workload.nested.high: IRQ{} does not have a higher priority than "
               "IRQ{} (a lower number, on the master)",
               high, low);
         return {};
       },
       make<NestedWorkload>()});
  r.add({"device-loop",
         "a thread computing while its one-shot device interrupts it every period (what "
         "`iocosim bench interrupt` runs)",
         "device_loop",
         {duration_key("period", "500us", "time between the device's interrupts"),
          name_key("device", "oneshot0", "the one-shot instance")},
         [](const Config& c) {
           std::string e = require_instance(c, "device_loop", "device", "oneshot");
           return e.empty() ? period_check(c, "device_loop") : e;
         },
         make<DeviceLoopWorkload>()});
  std::vector<std::string> rules = apps::Misbehave::kinds();
  rules.push_back("paged-pool-in-dpc");
  KeySpec rule = choice_key("rule", rules,
                            "which IRQL rule the misbehaving driver breaks (paged-pool-in-dpc: "
                            "its DPC reads paged pool; needs mm.paging)");
  r.add({"bugcheck",
         "a driver that breaks an IRQL rule; the kernel stops with a bug check",
         "bugcheck",
         {rule, name_key("device", "oneshot0", "the one-shot instance the driver uses")},
         [](const Config& c) -> std::string {
           if (std::string e = require_instance(c, "bugcheck", "device", "oneshot"); !e.empty())
             return e;
           if (c.workload_keys("bugcheck").text("rule") == "paged-pool-in-dpc" && !c.mm.paging)
             return "workload.bugcheck.rule: paged-pool-in-dpc needs mm.paging: true";
           return {};
         },
         make<BugcheckWorkload>()});
  r.add({"paging",
         "threads of an application writing a working set of user memory and checking every "
         "word, pass after pass; with the working set above RAM, the pagefile takes the rest "
         "(needs mm.paging and mm.pagefile.disk)",
         "paging",
         {size_key("working_set", "6MiB", "the application's memory, split between its threads"),
          integer_key("threads", 2, 1, 16, "threads touching the working set"),
          integer_key("passes", 0, 0, 1'000'000'000, "passes over it; 0 = until sim.until"),
          integer_key("compute_threads", 1, 0, 16, "threads computing alongside")},
         [](const Config& c) -> std::string {
           if (!c.mm.paging) return "workload.kind: paging needs mm.paging: true";
           const std::uint64_t ws = c.workload_keys("paging").number("working_set");
           if (ws == 0 || ws > mm::kUserEnd - mm::kUserBase)
             return fmt::format("workload.paging.working_set: must be 1 byte to {} (user space)",
                                util::format_size(mm::kUserEnd - mm::kUserBase));
           // What can hold it: the page frames (less the page tables'), and the pagefile.
           const std::uint64_t frames = page_frame_bytes(c);
           const std::uint64_t room =
               frames + (c.mm.pagefile_disk.empty() ? 0 : c.mm.pagefile_size);
           if (ws + ws / 256 + (256 << 10) > room)
             return fmt::format(
                 "workload.paging.working_set: {} does not fit the {} of page frames{} (with "
                 "its page tables); raise memory.ram.size or mm.pagefile.size",
                 util::format_size(ws), util::format_size(frames),
                 c.mm.pagefile_disk.empty()
                     ? " and there is no pagefile (mm.pagefile.disk)"
                     : fmt::format(" plus the {} pagefile", util::format_size(c.mm.pagefile_size)));
           return {};
         },
         make<PagingWorkload>()});
  r.add({"dma-transfer",
         "one DMA block transfer while the CPU computes, no kernel (what `iocosim compare-dma` "
         "runs)",
         "dma",
         {size_key("bytes", "1MiB", "bytes to move"),
          choice_key("mode", {"burst", "cycle-stealing", "transparent"}, "DMA mode"),
          choice_key("source", {"memory", "disk"},
                     "memory = memory to memory; disk = a block instance's sectors to memory "
                     "(fly-by)"),
          fraction_key("cpu_bus_share", "0.6", "share of bus cycles the computing thread needs"),
          integer_key("width", 4, 1, 4, "bytes per DMA unit (1, 2 or 4)"),
          name_key("disk", "disk0", "source disk: the block instance")},
         check_dma,
         make<DmaTransferWorkload>()});
  r.add({"idle",
         "no kernel: the HAL's timer ticks only",
         "",
         {},
         [](const Config& c) { return check_pic_only(c, "idle"); },
         make<IdleWorkload>()});
  r.add({"none", "no software", "", {}, {}, [](Platform&, const Config&) {
           return std::unique_ptr<Workload>(std::make_unique<NoWorkload>());
         }});
}

}  // namespace builtin
}  // namespace platform
