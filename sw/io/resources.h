#pragma once
// Hardware resources as Plug and Play passes them around: what a device can use
// (IO_RESOURCE_DESCRIPTOR, answered to IRP_MN_QUERY_RESOURCE_REQUIREMENTS) and what it was
// given (CM_PARTIAL_RESOURCE_DESCRIPTOR, in IRP_MN_START_DEVICE's raw and translated lists),
// and the arbiter that turns the first into the second across every device of the machine.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sw/ke/irql.h"

namespace io {

enum class ResourceType : std::uint8_t { port, memory, interrupt, dma };
const char* to_string(ResourceType t);

// CmResourceShareDeviceExclusive / CmResourceShareShared.
enum class Share : std::uint8_t { exclusive, shared };

// IO_RESOURCE_DESCRIPTOR: one resource a device needs and where it may lie.
struct ResourceRequirement {
  ResourceType type = ResourceType::port;
  Share share = Share::exclusive;
  bool level = false;  // interrupt: level-sensitive (else latched, edge)
  // port, memory: a window of `length` bytes aligned to `alignment`, inside [minimum, maximum]
  // (maximum is the last byte's address). A fixed window has maximum = minimum + length - 1.
  std::uint64_t length = 0, alignment = 1, minimum = 0, maximum = 0;
  // interrupt: the bus IRQs it can use; dma: the channels. In order of preference.
  std::vector<unsigned> choices;
};
using ResourceRequirements = std::vector<ResourceRequirement>;

// CM_PARTIAL_RESOURCE_DESCRIPTOR: one assigned resource, raw (as the bus sees it) or
// translated (as the processor sees it: an interrupt's vector, IRQL and affinity).
struct Resource {
  ResourceType type = ResourceType::port;
  Share share = Share::exclusive;
  bool level = false;
  std::uint64_t start = 0, length = 0;  // port, memory
  unsigned irq = 0;                     // interrupt: the bus IRQ (raw)
  std::uint8_t vector = 0;              // interrupt (translated)
  ke::Irql irql = 0;                    // interrupt (translated)
  std::uint64_t affinity = 1;           // interrupt (translated): processor bitmap
  unsigned channel = 0;                 // dma
};
using ResourceList = std::vector<Resource>;

// The first resource of `type` in `list`, or null.
const Resource* find_resource(const ResourceList& list, ResourceType type);
// "ports 0x1f0-0x1ff", "IRQ 14 (level, shared)", ... for logs and the device tree.
std::string describe(const Resource& r);
std::string describe(const ResourceRequirement& r);

// The arbiters of I/O ports, memory, IRQs and DMA channels (one object for the four), as the
// PnP manager consults them: a device's whole requirement list is satisfied or nothing is
// taken. Ports and memory are never shared; a DMA channel is one device's; an IRQ is shared
// only among devices that all asked for it shared and level-sensitive (an edge-triggered line
// cannot be shared). Among possible IRQs the arbiter prefers a free one, then the shareable one
// with the fewest devices: sharing happens only when the free lines have run out.
class ResourceArbiter {
 public:
  struct Claim {
    std::string owner;
    Resource resource;
  };

  // Resources taken before arbitration starts (boot configuration); never fails.
  void reserve(const std::string& owner, const Resource& resource);
  // Assigns `needs` to `owner`: the raw resources in the requirements' order, or nullopt and
  // `why` names the resource that could not be met and who holds what it wanted.
  std::optional<ResourceList> assign(const std::string& owner, const ResourceRequirements& needs,
                                     std::string& why);
  void release(const std::string& owner);
  // The owners holding IRQ `irq`.
  std::vector<std::string> irq_users(unsigned irq) const;
  const std::vector<Claim>& claims() const { return claims_; }

 private:
  std::vector<Claim> claims_;
};

}  // namespace io
