from closure.testing import replied_case  # noqa: F401
