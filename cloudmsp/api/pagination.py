from rest_framework import pagination

from cloudmsp.core.pagination import TwoEndedPaginator


class PageNumberPagination(pagination.PageNumberPagination):
    django_paginator_class = TwoEndedPaginator
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
