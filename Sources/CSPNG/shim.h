// libspng PNG decoder/encoder (Debian: libspng-dev).
#include <spng.h>
