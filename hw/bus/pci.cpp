#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "hw/bus/pci.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "hw/core/address_space.h"
#include "hw/core/sim_time.h"
#include "util/event_log.h"

namespace hw::bus {
namespace {

std::uint32_t data_of(const tlm::tlm_generic_payload& tx) {
  std::uint32_t v = 0;
  std::memcpy(&v, tx.get_data_ptr(), std::min<unsigned>(tx.get_data_length(), 4));
  return v;
}
void set_data(tlm::tlm_generic_payload& tx, std::uint32_t v) {
  std::memcpy(tx.get_data_ptr(), &v, std::min<unsigned>(tx.get_data_length(), 4));
}
bool power_of_two(std::uint64_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}

}  // namespace

PciHost::PciHost(const sc_core::sc_module_name& name, std::uint64_t io_base, std::uint64_t io_size,
                 std::uint64_t memory_base, std::uint64_t memory_size, std::vector<unsigned> irqs)
    : sc_module(name),
      config("config"),
      io("io"),
      memory("memory"),
      out("out"),
      log_(this->name()),
      io_base_(io_base),
      io_size_(io_size),
      mem_base_(memory_base),
      mem_size_(memory_size),
      irqs_(std::move(irqs)) {
  config.register_b_transport(this, &PciHost::config_transport);
  io.register_b_transport(this, &PciHost::io_transport);
  io.register_transport_dbg(this, &PciHost::io_debug);
  memory.register_b_transport(this, &PciHost::memory_transport);
  memory.register_transport_dbg(this, &PciHost::memory_debug);
  route_.fill(kPciRouteDisabled);
  // The bridge itself: device 0, class 06 00 00 (host bridge), INTA# for hot-plug events.
  Slot& bridge = slots_[0];
  bridge.present = true;
  bridge.info = {"bridge", kPciBridgeDevice, 0x060000, false, 0, true};
  bridge.command = kPciCmdIo | kPciCmdMemory;
}

std::string PciHost::add_function(unsigned slot, const PciFunctionInfo& info,
                                  tlm::tlm_base_target_socket<>& regs) {
  if (slot == 0 || slot >= kPciSlots)
    return fmt::format("slot {} is not 1..{}", slot, kPciSlots - 1);
  if (slots_[slot].present) return fmt::format("slot {} holds {}", slot, slots_[slot].info.name);
  if (!power_of_two(info.bar_size) || info.bar_size < (info.memory_bar ? 16u : 4u) ||
      (!info.memory_bar && info.bar_size > 256))
    return fmt::format("BAR size {} is not a power of two in [{}, {}]", info.bar_size,
                       info.memory_bar ? 16 : 4, info.memory_bar ? "4 GiB" : "256");
  Slot& s = slots_[slot];
  s.present = true;
  s.info = info;
  s.target = static_cast<int>(out.size());
  pin(slot);
  out.bind(regs);
  return {};
}

Pin& PciHost::pin(unsigned slot) {
  Slot& s = slots_[slot % kPciSlots];
  if (!s.pin) {
    s.pin = std::make_unique<Pin>(fmt::format("{}.inta{}", name(), slot));
    s.sense = std::make_unique<PinIn>();
    s.sense->on_change([this](bool) { route(); });  // the router follows INTA# at once
    s.sense->bind(*s.pin);
  }
  return *s.pin;
}

void PciHost::eject_at(unsigned slot, const sc_core::sc_time& t) {
  ejects_.emplace_back(t, slot);
  std::sort(ejects_.begin(), ejects_.end());
}

void PciHost::end_of_elaboration() {
  // The router follows every write to a route or the bridge's registers (and INTA#, pin()).
  sc_core::sc_spawn_options o;
  o.spawn_method();
  o.set_sensitivity(&route_event_);
  sc_core::sc_spawn([this] { route(); }, sc_core::sc_gen_unique_name("router"), &o);
  if (!ejects_.empty()) {
    sc_core::sc_spawn_options e;
    e.spawn_method();
    e.dont_initialize();
    e.set_sensitivity(&eject_event_);
    sc_core::sc_spawn([this] { eject(); }, sc_core::sc_gen_unique_name("ejector"), &e);
    eject_event_.notify(ejects_.front().first);
  }
}

void PciHost::eject() {
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  while (!ejects_.empty() && ejects_.front().first <= now) {
    const unsigned slot = ejects_.front().second;
    ejects_.erase(ejects_.begin());
    remove(slot);
  }
  if (!ejects_.empty()) eject_event_.notify(ejects_.front().first - now);
}

void PciHost::eject_now(unsigned slot) {
  if (slot > 0 && slot < kPciSlots) remove(slot);
}

void PciHost::remove(unsigned slot) {
  Slot& s = slots_[slot];
  if (!s.present) return;
  s.present = false;
  hotplug_status_ |= 1u << slot;
  ++stats_.ejected;
  log_.info("slot {} ({}) ejected", slot, s.info.name);
  if (util::events().enabled())
    util::events().emit(name(), "eject", {{"slot", slot}, {"function", s.info.name}});
  hw::notify_after(route_event_, sc_core::SC_ZERO_TIME);
}

void PciHost::route() {
  std::array<bool, kPciLinks> link{};
  for (unsigned n = 1; n < kPciSlots; ++n) {
    const Slot& s = slots_[n];
    if (s.present && s.pin && s.info.interrupt && s.pin->read() &&
        !(s.command & kPciCmdIntxDisable))
      link[link_of(n)] = true;
  }
  if (hotplug_status_ != 0 && !(slots_[0].command & kPciCmdIntxDisable)) link[link_of(0)] = true;
  std::array<bool, 16> level{};
  for (unsigned l = 0; l < kPciLinks; ++l) {
    if (!link[l] || (route_[l] & kPciRouteDisabled)) continue;
    const unsigned irq = route_[l] & 0x0f;
    if (std::find(irqs_.begin(), irqs_.end(), irq) != irqs_.end()) level[irq] = true;
  }
  for (unsigned irq : irqs_) {
    if (irq < 16) line_[irq].write(level[irq]);
  }
}

std::uint32_t PciHost::bar_value(const Slot& s) const {
  if (s.info.bar_size == 0) return 0;
  return s.info.memory_bar ? s.bar : s.bar | 1u;
}

std::uint32_t PciHost::read_config(unsigned slot, unsigned reg) const {
  const Slot& s = slots_[slot];
  if (!s.present) return 0xffffffffu;
  switch (reg) {
    case kPciVendorId:
      return static_cast<std::uint32_t>(s.info.device) << 16 | kPciVendor;
    case kPciCommand: {
      const bool asserted = slot == 0 ? hotplug_status_ != 0 : (s.pin && s.pin->read());
      return static_cast<std::uint32_t>(asserted ? 1u << 3 : 0) << 16 | s.command;
    }
    case kPciClass:
      return s.info.class_code << 8 | 0x01;
    case kPciBar0:
      return bar_value(s);
    case kPciSubsystem:
      return static_cast<std::uint32_t>(s.info.device) << 16 | kPciVendor;
    case kPciInterruptLine:
      return static_cast<std::uint32_t>(s.info.interrupt ? 1 : 0) << 8 | s.line;
    default:
      break;
  }
  if (slot == 0) {
    if (reg == kPciRoute)
      return static_cast<std::uint32_t>(route_[3]) << 24 | route_[2] << 16 | route_[1] << 8 |
             route_[0];
    if (reg == kPciHotplugStatus) return hotplug_status_;
    if (reg == kPciPresence) {
      std::uint32_t p = 0;
      for (unsigned n = 0; n < kPciSlots; ++n) p |= (slots_[n].present ? 1u : 0u) << n;
      return p;
    }
  }
  return 0;
}

void PciHost::write_config(unsigned slot, unsigned reg, std::uint32_t value,
                           std::uint32_t byte_mask) {
  Slot& s = slots_[slot];
  if (!s.present) return;
  const std::uint32_t v = (read_config(slot, reg) & ~byte_mask) | (value & byte_mask);
  switch (reg) {
    case kPciCommand:
      if (byte_mask & 0xffff) {
        s.command = static_cast<std::uint16_t>(
            v & (kPciCmdIo | kPciCmdMemory | kPciCmdBusMaster | kPciCmdIntxDisable));
        hw::notify_after(route_event_, sc_core::SC_ZERO_TIME);
      }
      return;
    case kPciBar0:
      // The low bits below the size read back as zero: writing all ones reads back the size.
      if (s.info.bar_size != 0)
        s.bar = v & ~(s.info.bar_size - 1) & (s.info.memory_bar ? ~0xfu : 0xfffffffcu);
      return;
    case kPciInterruptLine:
      if (byte_mask & 0xff) s.line = static_cast<std::uint8_t>(v);
      return;
    default:
      break;
  }
  if (slot != 0) return;
  if (reg == kPciRoute) {
    for (unsigned l = 0; l < kPciLinks; ++l)
      route_[l] = static_cast<std::uint8_t>((v >> (8 * l)) & 0x8f);
    hw::notify_after(route_event_, sc_core::SC_ZERO_TIME);
    if (util::events().enabled())
      util::events().emit(
          name(), "route",
          {{"pirqa", route_[0]}, {"pirqb", route_[1]}, {"pirqc", route_[2]}, {"pirqd", route_[3]}});
  } else if (reg == kPciHotplugStatus) {
    hotplug_status_ &= ~(value & byte_mask);  // write 1 to clear
    hw::notify_after(route_event_, sc_core::SC_ZERO_TIME);
  }
}

std::uint32_t PciHost::peek(unsigned slot, unsigned reg) const {
  return slot < kPciSlots ? read_config(slot, reg & 0xfc) : 0xffffffffu;
}

void PciHost::config_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time&) {
  const std::uint64_t offset = tx.get_address();
  const unsigned len = tx.get_data_length();
  tx.set_response_status(tlm::TLM_OK_RESPONSE);
  if (offset < 4) {
    // CONFIG_ADDRESS is a dword register; byte and word accesses at 0xCF8..0xCFB belong to
    // other chipset registers on a PC and reach nothing here.
    if (offset != 0 || len != 4) {
      if (tx.is_read()) set_data(tx, 0xffffffffu);
      return;
    }
    if (tx.is_read())
      set_data(tx, address_);
    else
      address_ = data_of(tx) & 0x80fffffcu;
    return;
  }
  const unsigned byte = static_cast<unsigned>(offset - 4);
  if (len != 1 && len != 2 && len != 4) {
    tx.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
    return;
  }
  const bool enabled = address_ & 0x80000000u;
  const unsigned bus = (address_ >> 16) & 0xff, device = (address_ >> 11) & 0x1f,
                 function = (address_ >> 8) & 0x7, reg = address_ & 0xfc;
  const bool hit = enabled && bus == 0 && function == 0 && slots_[device].present;
  if (tx.is_read()) {
    ++stats_.config_reads;
    if (!hit) ++stats_.master_aborts;
    const std::uint32_t dword = hit ? read_config(device, reg) : 0xffffffffu;
    set_data(tx, dword >> (8 * byte));
  } else {
    ++stats_.config_writes;
    if (!hit) {
      ++stats_.master_aborts;
      return;
    }
    const std::uint32_t mask = (len == 4 ? 0xffffffffu : (1u << (8 * len)) - 1) << (8 * byte);
    write_config(device, reg, data_of(tx) << (8 * byte), mask);
  }
}

int PciHost::decode(Space space, std::uint64_t address, unsigned length,
                    std::uint64_t& offset) const {
  for (unsigned n = 1; n < kPciSlots; ++n) {
    const Slot& s = slots_[n];
    if (!s.present || s.info.memory_bar != (space == Space::memory)) continue;
    if (!(s.command & (space == Space::memory ? kPciCmdMemory : kPciCmdIo))) continue;
    // A BAR left at 0 decodes nothing (software has not placed it).
    if (s.bar == 0 || address < s.bar || address - s.bar + length > s.info.bar_size) continue;
    offset = address - s.bar;
    return static_cast<int>(n);
  }
  return -1;
}

void PciHost::forward(Space space, std::uint64_t address, tlm::tlm_generic_payload& tx,
                      sc_core::sc_time& delay) {
  std::uint64_t offset = 0;
  const int n = decode(space, address, tx.get_data_length(), offset);
  if (n < 0) {
    // Master abort: nobody claimed the cycle. Reads return all ones, writes vanish.
    ++stats_.master_aborts;
    if (tx.is_read()) std::memset(tx.get_data_ptr(), 0xff, tx.get_data_length());
    tx.set_response_status(tlm::TLM_OK_RESPONSE);
    return;
  }
  ++stats_.forwarded;
  const std::uint64_t a = tx.get_address();
  tx.set_address(offset);
  out[slots_[static_cast<unsigned>(n)].target]->b_transport(tx, delay);
  tx.set_address(a);
}

void PciHost::io_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay) {
  forward(Space::io, io_base_ + tx.get_address(), tx, delay);
}

void PciHost::memory_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay) {
  forward(Space::memory, mem_base_ + tx.get_address(), tx, delay);
}

unsigned PciHost::debug(Space space, std::uint64_t address, tlm::tlm_generic_payload& tx) {
  std::uint64_t offset = 0;
  const int n = decode(space, address, tx.get_data_length(), offset);
  if (n < 0) return 0;
  const std::uint64_t a = tx.get_address();
  tx.set_address(offset);
  const unsigned r = out[slots_[static_cast<unsigned>(n)].target]->transport_dbg(tx);
  tx.set_address(a);
  return r;
}

unsigned PciHost::io_debug(tlm::tlm_generic_payload& tx) {
  return debug(Space::io, io_base_ + tx.get_address(), tx);
}

unsigned PciHost::memory_debug(tlm::tlm_generic_payload& tx) {
  return debug(Space::memory, mem_base_ + tx.get_address(), tx);
}

void PciHost::trace(sc_core::sc_trace_file* tf) const {
  for (unsigned irq : irqs_)
    if (irq < 16) line_[irq].trace(tf, std::string(name()) + ".irq" + std::to_string(irq));
}

}  // namespace hw::bus
