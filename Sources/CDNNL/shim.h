#ifndef LOUPE_CDNNL_SHIM_H
#define LOUPE_CDNNL_SHIM_H

// oneDNN 2.6 from Debian's libdnnl-dev. Swift sees `dnnl_dims_t` as a 12-element tuple, so the helpers
// below take plain pointers and fill the fixed-size arrays on the C side.
#include <oneapi/dnnl/dnnl.h>
#include <stdint.h>

// OpenMP runtime used by Debian's oneDNN build (DNNL_CPU_RUNTIME == OMP).
void omp_set_num_threads(int num_threads);
int omp_get_max_threads(void);

/// Initialises `md` with `ndims` dims; dense row-major when `strides` is NULL.
static inline dnnl_status_t loupe_md_init(dnnl_memory_desc_t *md, int ndims, const int64_t *dims,
                                          const int64_t *strides, dnnl_data_type_t type) {
    dnnl_dims_t d = {0};
    dnnl_dims_t s = {0};
    if (ndims < 1 || ndims > DNNL_MAX_NDIMS) return dnnl_invalid_arguments;
    for (int i = 0; i < ndims; i++) d[i] = dims[i];
    if (strides == NULL) {
        int64_t acc = 1;
        for (int i = ndims - 1; i >= 0; i--) { s[i] = acc; acc *= dims[i]; }
    } else {
        for (int i = 0; i < ndims; i++) s[i] = strides[i];
    }
    return dnnl_memory_desc_init_by_strides(md, ndims, d, type, s);
}

/// Initialises `md` with a format tag (e.g. `dnnl_format_tag_any` to let a primitive choose).
static inline dnnl_status_t loupe_md_init_tag(dnnl_memory_desc_t *md, int ndims, const int64_t *dims,
                                              dnnl_data_type_t type, dnnl_format_tag_t tag) {
    dnnl_dims_t d = {0};
    if (ndims < 1 || ndims > DNNL_MAX_NDIMS) return dnnl_invalid_arguments;
    for (int i = 0; i < ndims; i++) d[i] = dims[i];
    return dnnl_memory_desc_init_by_tag(md, ndims, d, type, tag);
}

static inline const char *loupe_pd_impl_name(const_dnnl_primitive_desc_t pd) {
    const char *name = "unknown";
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, (void *)&name);
    return name;
}

static inline int loupe_arg_post_op_src1(int index) {
    return DNNL_ARG_ATTR_MULTIPLE_POST_OP(index) | DNNL_ARG_SRC_1;
}

#endif
