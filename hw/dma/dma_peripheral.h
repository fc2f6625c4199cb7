#pragma once
// A device's side of the DREQ/DACK handshake. The device raises DREQ while it has data for
// memory (or room for data from memory); the DMA engine, holding the bus, moves the data in
// fly-by cycles: one bus cycle per unit, the device answering DACK instead of an address.
#include <cstdint>

namespace hw::dma {

class DmaPeripheral {
 public:
  virtual ~DmaPeripheral() = default;
  // Bytes the device can supply now (to_memory) or accept now (from memory). DREQ is high
  // exactly while this is above zero.
  virtual std::uint64_t dma_ready(bool to_memory) const = 0;
  // Device -> memory: the device hands over `n` (<= dma_ready(true)) bytes.
  virtual void dma_read(std::uint8_t* dst, std::uint64_t n) = 0;
  // Memory -> device: the device takes `n` (<= dma_ready(false)) bytes.
  virtual void dma_write(const std::uint8_t* src, std::uint64_t n) = 0;
  // The channel reached terminal count (EOP#) or ended with an error.
  virtual void dma_end(bool ok) {}
};

}  // namespace hw::dma
