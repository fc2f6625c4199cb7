#pragma once
// One DMA block transfer while the CPU computes: what `iocosim compare-dma` runs in each mode.
// Bare metal (no kernel), so nothing but the transfer and the computation competes for the bus:
// boot the PIC, program the channel (and the block device for a disk source), then compute in
// small chunks, each needing a share of the bus cycles, until the DMA controller's terminal-
// count interrupt. The register layouts are the datasheets' in docs/models.md, as a driver
// would have them.
#include <cstdint>
#include <functional>

#include "hw/cpu/processor.h"
#include "sw/hal/pic.h"

namespace apps {

struct DmaTransferParams {
  hal::PicPorts pic;
  std::uint8_t vector_base = 0x30;
  std::uint16_t dma_port = 0xc00;
  unsigned dma_irq = 10;
  unsigned channel = 0;
  unsigned mode = 0;   // 0 burst, 1 cycle-stealing, 2 transparent
  unsigned width = 4;  // bytes per unit
  bool from_disk = false;
  std::uint16_t disk_port = 0x1f0;
  std::uint32_t bytes = 1 << 20;
  std::uint32_t src = 0x10000, dst = 0x10000;
  double cpu_bus_share = 0.6;
  unsigned work_chunk = 100;  // CPU cycles per computation step
};

class DmaTransfer : public hw::TrapHandler {
 public:
  struct Result {
    std::uint64_t start_ps = 0, end_ps = 0;  // channel enabled .. terminal-count interrupt taken
    std::uint64_t work_cycles = 0;           // computation completed in between
    std::uint64_t interrupts = 0, unexpected = 0, bus_errors = 0;
    std::uint32_t dma_status = 0;
    bool completed = false, verified = false;
  };

  DmaTransfer(hw::Processor& cpu, DmaTransferParams params);
  // `on_start` / `on_end`: called at the two instants the result's times record (statistics
  // snapshots for the platform).
  void run(std::function<void()> on_start = {}, std::function<void()> on_end = {});
  const Result& result() const { return result_; }

  void interrupt(std::uint8_t vector) override;
  void bus_error(const hw::BusFault& fault) override;

 private:
  std::uint32_t pattern(std::uint32_t offset) const { return 0x9e3779b9u * (offset / 4 + 1); }
  // Byte `offset` of the pattern (little-endian words).
  std::uint32_t byte_pattern(std::uint32_t offset) const {
    return (pattern(offset & ~3u) >> (8 * (offset & 3u))) & 0xffu;
  }
  // The first of the last (up to 4) bytes, which are written and checked one by one.
  std::uint32_t tail_start() const { return p_.bytes > 4 ? p_.bytes - 4 : 0; }

  hw::Processor& cpu_;
  DmaTransferParams p_;
  hal::PicPair pic_;
  Result result_;
  bool done_ = false;
  std::function<void()> on_end_;
};

}  // namespace apps
