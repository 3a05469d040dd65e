#ifndef BOOKING_RUSH_CHIREDIS_SHIM_H
#define BOOKING_RUSH_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#include <hiredis/read.h>
#endif
