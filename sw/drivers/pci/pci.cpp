#include "sw/drivers/pci/pci.h"

#include <utility>

#include <fmt/format.h>

#include "util/event_log.h"
#include "util/log.h"

namespace drivers {
namespace {

// Configuration-space offsets and bits (hw/bus/pci.h documents the hardware).
constexpr unsigned kVendor = 0x00, kCommand = 0x04, kClass = 0x08, kBar0 = 0x10, kSubsystem = 0x2c,
                   kInterrupt = 0x3c, kRoute = 0x60, kHotplugStatus = 0x70;
constexpr std::uint32_t kCmdIo = 1, kCmdMemory = 2, kCmdBusMaster = 4;
constexpr unsigned kLinks = 4;

// The PIRQ link a function's interrupt pin (1 = INTA#) reaches: the standard swizzle.
unsigned link_of(unsigned slot, unsigned pin) {
  return (slot + pin - 1) % kLinks;
}

util::Logger& log() {
  static util::Logger l("drivers.pci");
  return l;
}

}  // namespace

struct PciDriver::Node {
  bool fdo = false;
  unsigned slot = 0;
  bool present = true;  // found by the last scan
  io::DeviceObject* device = nullptr;
  io::DeviceObject* lower = nullptr;  // FDO: the root PDO it attached to
};

PciDriver::PciDriver(io::IoManager& io, io::PnpManager& pnp, Params params)
    : io_(io), kernel_(io.kernel()), pnp_(pnp), params_(std::move(params)) {}

PciDriver::~PciDriver() = default;

io::DriverObject& PciDriver::driver_entry() {
  driver_ = &io_.load_driver("\\Driver\\PCI", [this](io::DriverObject& d) {
    d.context = this;
    d.major_function[static_cast<unsigned>(io::Major::pnp)] = &PciDriver::dispatch_pnp;
    // AddDevice: the bridge's FDO over the root enumerator's PDO.
    d.add_device = [this](io::DriverObject& drv, io::DeviceObject& pdo) {
      if (fdo_ != nullptr) return io::Status::insufficient_resources;  // one bus here
      nodes_.push_back(std::make_unique<Node>());
      Node& n = *nodes_.back();
      n.fdo = true;
      n.device = io_.create_device(drv, "\\Device\\PciBus0", &n);
      if (n.device == nullptr) return io::Status::insufficient_resources;
      n.lower = io_.attach_device_to_device_stack(*n.device, pdo);
      io_.initialize_dpc_request(*n.device, &PciDriver::dpc, "pci_hotplug_dpc");
      n.device->flags &= ~io::kDoDeviceInitializing;
      fdo_ = &n;
      return io::Status::success;
    };
    d.unload = [](io::DriverObject& drv) { log().info("{} unloaded", drv.name); };
    return io::Status::success;
  });
  kernel_.initialize_event(hotplug_, "pci_hotplug", ke::EventType::synchronization, false);
  return *driver_;
}

std::uint32_t PciDriver::read_config(unsigned slot, unsigned reg) {
  const ke::Irql old = kernel_.raise_irql(ke::kHighLevel);
  kernel_.cpu().outl(params_.config_port, 0x80000000u | slot << 11 | (reg & 0xfc));
  const std::uint32_t v = kernel_.cpu().inl(static_cast<std::uint16_t>(params_.config_port + 4));
  kernel_.lower_irql(old);
  ++stats_.config_reads;
  return v;
}

void PciDriver::write_config(unsigned slot, unsigned reg, std::uint32_t value) {
  const ke::Irql old = kernel_.raise_irql(ke::kHighLevel);
  kernel_.cpu().outl(params_.config_port, 0x80000000u | slot << 11 | (reg & 0xfc));
  kernel_.cpu().outl(static_cast<std::uint16_t>(params_.config_port + 4), value);
  kernel_.lower_irql(old);
  ++stats_.config_writes;
}

void PciDriver::route(unsigned link, unsigned irq) {
  std::uint32_t r = read_config(0, kRoute);
  r = (r & ~(0xffu << (8 * link))) | (irq & 0x0f) << (8 * link);
  write_config(0, kRoute, r);
}

io::Status PciDriver::dispatch_pnp(io::DeviceObject* d, io::Irp* irp) {
  auto* self = static_cast<PciDriver*>(d->driver->context);
  Node& n = *static_cast<Node*>(d->context);
  return n.fdo ? self->fdo_pnp(n, *irp) : self->pdo_pnp(n, *irp);
}

io::Status PciDriver::start_bus(Node& n, const io::ResourceList& translated) {
  const io::Resource* irq = io::find_resource(translated, io::ResourceType::interrupt);
  if (irq == nullptr) return io::Status::success;  // no hot-plug interrupt
  route(0, irq->irq);                              // the bridge is device 0: its INTA# is link A
  const io::Status s = io_.connect_interrupt(interrupt_, "pci_hotplug", &PciDriver::isr, this,
                                             io::IoManager::interrupt_resource(*irq), n.device);
  if (s != io::Status::success) return s;
  if (!worker_) {
    worker_ = true;
    // The bus's worker: re-enumerates at PASSIVE_LEVEL when the hot-plug DPC wakes it.
    kernel_.create_thread("pci_hotplug", 12, [this] {
      for (;;) {
        kernel_.wait_for_single_object(hotplug_, std::nullopt);
        if (fdo_ != nullptr && !fdo_->device->removed)
          pnp_.invalidate_device_relations(*fdo_->device);
      }
    });
  }
  return io::Status::success;
}

io::Status PciDriver::fdo_pnp(Node& n, io::Irp& irp) {
  io::IoStackLocation& sl = irp.current();
  switch (sl.pnp.minor) {
    case io::Minor::start_device: {
      io::Status s = io_.forward_irp_synchronously(*n.lower, irp);
      if (io::nt_success(s) && sl.pnp.translated) s = start_bus(n, *sl.pnp.translated);
      irp.io_status = {s, 0};
      io_.complete_request(irp);
      return s;
    }
    case io::Minor::query_device_relations: {
      ++stats_.scans;
      std::vector<io::DeviceObject*> found;
      for (unsigned slot = 1; slot < 32; ++slot) {
        Node* pdo = nullptr;
        for (auto& p : nodes_)
          if (!p->fdo && p->slot == slot && !p->device->removed) pdo = p.get();
        const bool present = (read_config(slot, kVendor) & 0xffff) != 0xffff;
        if (pdo) pdo->present = present;
        if (!present) continue;
        if (pdo == nullptr) {
          nodes_.push_back(std::make_unique<Node>());
          pdo = nodes_.back().get();
          pdo->slot = slot;
          pdo->device = io_.create_device(*driver_, "", pdo);
          pdo->device->flags &= ~io::kDoDeviceInitializing;
          ++stats_.functions;
        }
        found.push_back(pdo->device);
      }
      if (irp.pnp_result) irp.pnp_result->relations = found;
      irp.io_status = {io::Status::success, 0};
      return io_.pass_down(*n.device, irp);
    }
    case io::Minor::surprise_removal:
    case io::Minor::remove_device: {
      io_.disconnect_interrupt(std::exchange(interrupt_, nullptr));
      irp.io_status.status = io::Status::success;
      io::DeviceObject* lower = n.lower;
      const bool remove = sl.pnp.minor == io::Minor::remove_device;
      const io::Status s = io_.pass_down(*n.device, irp);
      if (remove) {
        io_.detach_device(*lower);
        io_.delete_device(*n.device);
        n.device->removed = true;
      }
      return s;
    }
    default:
      return io_.pass_down(*n.device, irp);
  }
}

io::Status PciDriver::pdo_pnp(Node& n, io::Irp& irp) {
  io::IoStackLocation& sl = irp.current();
  io::Status s = irp.io_status.status;
  io::PnpResult* out = irp.pnp_result;
  const unsigned slot = n.slot;
  switch (sl.pnp.minor) {
    case io::Minor::query_id: {
      if (out == nullptr || !n.present) break;
      const std::uint32_t id = read_config(slot, kVendor);
      const std::uint32_t cls = read_config(slot, kClass);
      const std::uint32_t sub = read_config(slot, kSubsystem);
      const std::string ven = fmt::format("PCI\\VEN_{:04X}&DEV_{:04X}", id & 0xffff, id >> 16);
      const std::string subsys = fmt::format("&SUBSYS_{:04X}{:04X}", sub >> 16, sub & 0xffff);
      const std::string rev = fmt::format("&REV_{:02X}", cls & 0xff);
      const std::string cc = fmt::format("CC_{:06X}", cls >> 8);
      switch (sl.pnp.id_type) {
        case io::IdType::device_id:
          out->ids = {ven + subsys + rev};
          break;
        case io::IdType::hardware_ids:
          out->ids = {ven + subsys + rev, ven + subsys, ven + "&" + cc, ven};
          break;
        case io::IdType::compatible_ids:
          out->ids = {fmt::format("PCI\\VEN_{:04X}&{}", id & 0xffff, cc), "PCI\\" + cc,
                      "PCI\\" + cc.substr(0, 7)};
          break;
        case io::IdType::instance_id:
          out->ids = {fmt::format("{}", slot)};
          break;
      }
      s = io::Status::success;
      break;
    }
    case io::Minor::query_resource_requirements: {
      if (out == nullptr || !n.present) break;
      // BAR0's size: write all ones, read the mask back, restore.
      const std::uint32_t saved = read_config(slot, kBar0);
      write_config(slot, kBar0, 0xffffffffu);
      const std::uint32_t mask = read_config(slot, kBar0);
      write_config(slot, kBar0, saved);
      if (mask != 0) {
        io::ResourceRequirement bar;
        const bool io_bar = mask & 1;
        bar.type = io_bar ? io::ResourceType::port : io::ResourceType::memory;
        const std::uint32_t bits = io_bar ? (mask & 0xfffcu) | 0xffff0000u : mask & ~0xfu;
        bar.length = static_cast<std::uint64_t>(~bits) + 1;
        bar.alignment = bar.length;
        bar.minimum = io_bar ? params_.io_base : params_.memory_base;
        bar.maximum = bar.minimum + (io_bar ? params_.io_size : params_.memory_size) - 1;
        out->requirements.push_back(bar);
      }
      const unsigned pin = (read_config(slot, kInterrupt) >> 8) & 0xff;
      if (pin != 0) {
        io::ResourceRequirement irq;
        irq.type = io::ResourceType::interrupt;
        irq.share = io::Share::shared;
        irq.level = true;
        const unsigned link = link_of(slot, pin);
        const std::uint8_t r = static_cast<std::uint8_t>(read_config(0, kRoute) >> (8 * link));
        // A link already routed (another function on it started) fixes the IRQ.
        irq.choices = (r & 0x80) ? params_.irqs : std::vector<unsigned>{r & 0x0fu};
        out->requirements.push_back(irq);
      }
      if (auto it = params_.dma.find(slot); it != params_.dma.end()) {
        io::ResourceRequirement dma;
        dma.type = io::ResourceType::dma;
        dma.choices = {it->second};
        out->requirements.push_back(dma);
      }
      s = io::Status::success;
      break;
    }
    case io::Minor::start_device: {
      if (!n.present || sl.pnp.raw == nullptr) {
        s = io::Status::no_such_device;
        break;
      }
      std::uint32_t command = kCmdBusMaster;
      std::uint32_t bar0 = 0;  // what BAR0 reads back now: the base and the I/O space bit
      for (const auto& r : *sl.pnp.raw) {
        if (r.type == io::ResourceType::port || r.type == io::ResourceType::memory) {
          write_config(slot, kBar0, static_cast<std::uint32_t>(r.start));
          bar0 = static_cast<std::uint32_t>(r.start) | (r.type == io::ResourceType::port ? 1u : 0u);
          command |= r.type == io::ResourceType::port ? kCmdIo : kCmdMemory;
        } else if (r.type == io::ResourceType::interrupt) {
          const unsigned pin = (read_config(slot, kInterrupt) >> 8) & 0xff;
          write_config(slot, kInterrupt, pin << 8 | r.irq);
          route(link_of(slot, pin), r.irq);
        }
      }
      write_config(slot, kCommand, command);
      if (util::events().enabled())
        util::events().emit(
            "pci", "function_started",
            // The value written, not read back: a configuration read only for the event log
            // would add bus cycles, and observing a run must never change it.
            {{"slot", slot}, {"bar0", bar0}, {"command", command}});
      s = io::Status::success;
      break;
    }
    case io::Minor::read_config: {
      // The function's own configuration space (its PDO's slot), a dword at a time through
      // mechanism #1; the 256 bytes of a type 0 header, nothing past them.
      const std::uint32_t offset = sl.pnp.offset, length = sl.pnp.length;
      if (!n.present) {
        s = io::Status::no_such_device;
        break;
      }
      if (sl.pnp.buffer == nullptr || offset >= 256 || length > 256 - offset) {
        s = io::Status::invalid_parameter;
        break;
      }
      for (std::uint32_t i = 0; i < length;) {
        const std::uint32_t at = offset + i;
        const std::uint32_t dword = read_config(slot, at & ~3u);
        for (unsigned b = at & 3u; b < 4 && i < length; ++b, ++i)
          sl.pnp.buffer[i] = static_cast<std::uint8_t>(dword >> (8 * b));
      }
      irp.io_status = {io::Status::success, length};
      io_.complete_request(irp);
      return io::Status::success;
    }
    case io::Minor::query_capabilities:
      if (out == nullptr || !n.present) break;
      // A function in a hot-plug slot: it can be ejected, and can leave without warning.
      out->capabilities.removable = true;
      out->capabilities.surprise_removal_ok = true;
      out->capabilities.unique_id = false;  // its instance ID is the slot, unique on this bus
      out->capabilities.address = slot << 16;
      out->capabilities.ui_number = slot;
      s = io::Status::success;
      break;
    case io::Minor::query_remove_device:
    case io::Minor::cancel_remove_device:
    case io::Minor::query_stop_device:
    case io::Minor::cancel_stop_device:
    case io::Minor::surprise_removal:
      s = io::Status::success;
      break;
    case io::Minor::stop_device:
      if (n.present) write_config(slot, kCommand, 0);  // stop decoding until the next start
      s = io::Status::success;
      break;
    case io::Minor::remove_device:
      if (n.present) write_config(slot, kCommand, 0);  // stop decoding
      s = io::Status::success;
      if (!n.present) {
        // The function left the bus: its PDO goes too.
        io_.delete_device(*n.device);
        n.device->removed = true;
      }
      break;
    default:
      break;
  }
  irp.io_status = {s, 0};
  io_.complete_request(irp);
  return s;
}

bool PciDriver::isr(ke::Interrupt*, void* context) {
  auto* self = static_cast<PciDriver*>(context);
  self->kernel_.cpu().consume(self->params_.isr_cycles, 0.2);
  // The line is shared: if no hot-plug event is pending, the interrupt is another device's.
  const std::uint32_t status = self->read_config(0, kHotplugStatus);
  if (status == 0 || status == 0xffffffffu) return false;
  self->write_config(0, kHotplugStatus, status);  // write 1 to clear: INTA# drops
  self->pending_ |= status;
  ++self->stats_.hotplug_interrupts;
  self->io_.request_dpc(*self->fdo_->device, nullptr, nullptr);
  return true;
}

void PciDriver::dpc(ke::Dpc*, io::DeviceObject* d, io::Irp*, void*) {
  auto* self = static_cast<PciDriver*>(d->driver->context);
  self->kernel_.cpu().consume(self->params_.dpc_cycles, 0.2);
  log().info("hot-plug: slots {:#x} changed presence", self->pending_);
  self->pending_ = 0;
  self->kernel_.set_event(self->hotplug_);
}

}  // namespace drivers
