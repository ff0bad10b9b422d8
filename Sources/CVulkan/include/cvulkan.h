// Vulkan's types and function-pointer typedefs only: no prototypes, so nothing links against the
// loader. DA3Vulkan opens libvulkan.so.1 at run time and resolves every entry point through
// vkGetInstanceProcAddr / vkGetDeviceProcAddr; `da3` therefore runs where no Vulkan is installed.
#ifndef DA3_CVULKAN_H
#define DA3_CVULKAN_H
#define VK_NO_PROTOTYPES 1
#include <vulkan/vulkan.h>
#endif
