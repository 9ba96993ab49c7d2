from rest_framework import pagination
from rest_framework.request import Request

from cloudmsp.core.pagination import TwoEndedPaginator
from cloudmsp.core.validation import ascii_int


class PageNumberPagination(pagination.PageNumberPagination):
    django_paginator_class = TwoEndedPaginator
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Request) -> int:
        """`page_size` in ASCII digits, up to `max_page_size`; anything else, the default (as
        DRF does for "abc")."""
        size = ascii_int(request.query_params.get(self.page_size_query_param, ""), max_digits=9)
        return min(size, self.max_page_size) if size else self.page_size
