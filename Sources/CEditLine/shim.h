#ifndef KJ_CEDITLINE_SHIM_H
#define KJ_CEDITLINE_SHIM_H
#include <stdio.h>
#include <editline/readline.h>
#endif
