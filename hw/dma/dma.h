#pragma once
// The DMA controller: N channels (at least 4), each moving memory<->memory or device<->memory in
// burst, cycle-stealing or transparent mode (hw/bus/arbiter.h), optionally through a
// scatter-gather chain of descriptors in RAM. One channel holds the bus at a time; channels are
// served in fixed priority (channel 0 first) at every segment boundary.
//
// Registers (I/O space), all 32-bit. Global, at base: 0x00 IRQ_STATUS (bit i: channel i has TC
// or ERROR with IE; RO), 0x04 CHANNELS (RO). Channel i at base + 0x20*(i+1):
//   0x00 SRC      source address (memory -> *)
//   0x04 DST      destination address (* -> memory)
//   0x08 COUNT    bytes left; a multiple of the unit width
//   0x0C CONTROL  bit 0 ENABLE (starts; reads 1 while active; writing 0 aborts)
//                 bits 1-2 DIR (0 memory->memory, 1 device->memory, 2 memory->device)
//                 bit 3 SRC_INC, bit 4 DST_INC (0: the address stays, a device FIFO window)
//                 bits 5-6 MODE (0 burst, 1 cycle-stealing, 2 transparent)
//                 bit 7 IE (interrupt on terminal count and on error)
//                 bit 8 SG (addresses and counts come from the descriptor chain at DESC)
//                 bits 9-10 WIDTH (0: 1 byte, 1: 2 bytes, 2: 4 bytes per unit)
//   0x10 STATUS   bit 0 ACTIVE (RO), bit 1 TC, bit 2 ERROR (write 1 to clear), bit 3 DREQ (RO)
//   0x14 DESC     scatter-gather: address of the next descriptor
//   0x18 ERROR    why ERROR was set (DmaError), RO
// A descriptor is four 32-bit words in memory: source, destination, byte count, next
// descriptor (0 ends the chain). Fetching one costs four bus cycles in the channel's mode.
//
// Data moves in segments (a device's ready block, at most `chunk` bytes in cycle-stealing and
// transparent modes, the whole block in burst mode); COUNT and memory change at the end of
// each segment. A memory address nobody decodes ends the channel with ERROR and an interrupt:
// the segment that reached it is not written, nothing outside the programmed range is touched.
#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "hw/bus/bus_master_if.h"
#include "hw/core/pin.h"
#include "hw/core/register_bank.h"
#include "hw/core/traced.h"
#include "hw/dma/dma_peripheral.h"
#include "util/log.h"

namespace hw::dma {

enum DmaControl : std::uint32_t {
  kCtrlEnable = 1u << 0,
  kCtrlDirShift = 1,
  kCtrlSrcInc = 1u << 3,
  kCtrlDstInc = 1u << 4,
  kCtrlModeShift = 5,
  kCtrlIe = 1u << 7,
  kCtrlSg = 1u << 8,
  kCtrlWidthShift = 9,
};
enum DmaStatus : std::uint32_t {
  kStatActive = 1u << 0,
  kStatTc = 1u << 1,
  kStatError = 1u << 2,
  kStatDreq = 1u << 3
};
enum class DmaError : std::uint32_t {
  none = 0,
  bad_control = 1,     // reserved direction, mode or width
  bad_count = 2,       // zero, or not a multiple of the unit width
  no_device = 3,       // a device direction on a channel with no device
  bad_address = 4,     // a memory access nobody decodes
  bad_descriptor = 5,  // a descriptor that cannot be read, or with a bad count
  aborted = 6,         // software cleared ENABLE while the channel was active
};
const char* to_string(DmaError e);

constexpr std::uint64_t kChannelStride = 0x20;
constexpr unsigned kMinChannels = 4, kMaxChannels = 8;
inline std::uint64_t channel_base(unsigned i) {
  return kChannelStride * (i + 1);
}
// The size of the register window of a controller with `channels` channels.
inline std::uint64_t window_size(unsigned channels) {
  return kChannelStride * (channels + 1);
}

class DmaController : public sc_core::sc_module {
 public:
  struct ChannelStats {
    std::uint64_t bytes = 0, segments = 0, descriptors = 0, completed = 0, errors = 0;
    std::uint64_t ignored_writes = 0;  // register writes while the channel was active
    std::uint64_t busy_ps = 0;         // enable to terminal count, summed over transfers
    std::uint64_t last_start_ps = 0, last_end_ps = 0;
  };

  tlm_utils::simple_target_socket<DmaController> in;      // registers
  tlm_utils::simple_initiator_socket<DmaController> out;  // data, as a bus master
  sc_core::sc_port<bus::dma_bus_if> bus;
  PinOut irq{"irq"};
  // DREQ in and DACK out per channel, as pins (hw/core/pin.h): the engine sees a request at
  // once and waits on its change; a deque, as pins do not move.
  std::deque<PinIn> dreq;
  std::deque<PinOut> dack;

  DmaController(const sc_core::sc_module_name& name, unsigned channels, std::uint64_t chunk_bytes);

  unsigned channels() const { return static_cast<unsigned>(ch_.size()); }
  // Connects a device to channel `channel`'s DREQ/DACK data path (its DREQ signal is bound to
  // dreq[channel] by the platform).
  void attach(unsigned channel, DmaPeripheral* device);
  const ChannelStats& stats(unsigned channel) const { return ch_[channel].stats; }
  std::uint32_t status(unsigned channel) const;
  void trace(sc_core::sc_trace_file* tf);

 private:
  struct Channel {
    std::uint32_t src = 0, dst = 0, ctrl = 0, status = 0, desc = 0;
    Traced<std::uint32_t> count = 0;  // traced (the VCD), as is `active`: they report changes
    DmaError error = DmaError::none;
    DmaPeripheral* device = nullptr;
    Traced<bool> active = false;
    bool abort = false, need_descriptor = false;
    ChannelStats stats;
  };

  void b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
  void write_control(unsigned i, std::uint32_t v);
  void start(unsigned i);
  void fail(unsigned i, DmaError e);
  void finish(unsigned i);
  bool ready(unsigned i) const;
  void engine();
  void step(unsigned i);
  // Holds the bus for `units` units of `c` cycles in the channel's mode.
  void hold_bus(unsigned i, std::uint64_t units, unsigned c);
  bool memory(tlm::tlm_command cmd, std::uint64_t address, std::uint8_t* data, std::uint64_t n,
              bool increment, unsigned width);
  void drive();

  util::Logger log_;
  RegisterBank regs_;
  std::vector<Channel> ch_;
  std::uint64_t chunk_;
  // The most bytes a segment stages at once on the host (its timing is the segment's whole).
  static constexpr std::uint64_t kStagingBytes = 1 << 20;
  sc_core::sc_event kick_, drive_event_;
  std::vector<std::uint8_t> buffer_;
  // The engine's bus payload, reused (constructing and destroying one per access cost more
  // than the access).
  tlm::tlm_generic_payload tx_;
};

}  // namespace hw::dma
