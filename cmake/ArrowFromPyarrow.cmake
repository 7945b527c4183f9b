# Locate Arrow C++ (arrow, parquet, dataset, acero, compute) inside the pyarrow wheel of the
# Python interpreter CMake found: the wheel ships headers and versioned shared libraries.
execute_process(
  COMMAND "${Python_EXECUTABLE}" -c
          "import pyarrow as pa; print(pa.get_include()); print(pa.get_library_dirs()[0]); print(pa.__version__)"
  OUTPUT_VARIABLE _pyarrow_out
  OUTPUT_STRIP_TRAILING_WHITESPACE
  RESULT_VARIABLE _pyarrow_rc)
if(NOT _pyarrow_rc EQUAL 0)
  message(FATAL_ERROR "pyarrow is not importable from ${Python_EXECUTABLE}; run `make setup`")
endif()
string(REPLACE "\n" ";" _pyarrow_out "${_pyarrow_out}")
list(GET _pyarrow_out 0 PYARROW_INCLUDE_DIR)
list(GET _pyarrow_out 1 PYARROW_LIBRARY_DIR)
list(GET _pyarrow_out 2 PYARROW_VERSION)
string(REGEX MATCH "^[0-9]+" _arrow_major "${PYARROW_VERSION}")
set(ARROW_SO_VERSION "${_arrow_major}00")
message(STATUS "Arrow ${PYARROW_VERSION} from pyarrow: ${PYARROW_LIBRARY_DIR}")

foreach(_lib arrow parquet arrow_dataset arrow_acero arrow_compute)
  set(_path "${PYARROW_LIBRARY_DIR}/lib${_lib}.so.${ARROW_SO_VERSION}")
  if(NOT EXISTS "${_path}")
    message(FATAL_ERROR "missing ${_path}")
  endif()
  add_library(Arrow::${_lib} SHARED IMPORTED)
  set_target_properties(Arrow::${_lib} PROPERTIES
    IMPORTED_LOCATION "${_path}"
    IMPORTED_NO_SONAME OFF
    INTERFACE_INCLUDE_DIRECTORIES "${PYARROW_INCLUDE_DIR}")
endforeach()
set_property(TARGET Arrow::parquet PROPERTY INTERFACE_LINK_LIBRARIES Arrow::arrow)
set_property(TARGET Arrow::arrow_compute PROPERTY INTERFACE_LINK_LIBRARIES Arrow::arrow)
set_property(TARGET Arrow::arrow_acero PROPERTY INTERFACE_LINK_LIBRARIES Arrow::arrow_compute)
set_property(TARGET Arrow::arrow_dataset PROPERTY INTERFACE_LINK_LIBRARIES Arrow::parquet Arrow::arrow_acero)
