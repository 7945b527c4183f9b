#include "tickforge/python/errors.h"

namespace tickforge::python {

void BindErrors(nanobind::module_& m) { nanobind::exception<Error>(m, "TickforgeError", PyExc_ValueError); }

}  // namespace tickforge::python
