from django.urls import path

from cloudmsp.cloud.web import accounts as views
from cloudmsp.cloud.web import bulk as bulk_views
from cloudmsp.cloud.web import health as health_views
from cloudmsp.cloud.web import imports as import_views
from cloudmsp.cloud.web import jobs as job_views
from cloudmsp.cloud.web import members as member_views
from cloudmsp.cloud.web import rules as rule_views

urlpatterns = [
    path("", views.account_management, name="accounts"),
    path("aws/msp/", views.msp_list, name="msp"),
    path("aws/non-msp/", views.non_msp_list, name="non_msp"),
    path("aws/<str:category>/add/", views.account_add, name="add"),
    path("<id:account_id>/connect/", views.account_connect, name="connect"),
    path("<id:account_id>/template.yaml", views.template_download, {"kind": "role"}, name="template"),
    path("<id:account_id>/stackset.yaml", views.template_download, {"kind": "stackset"}, name="stackset_template"),
    path("<id:account_id>/validate/", views.account_validate, name="validate"),
    path("<id:account_id>/sync/", views.account_sync, name="sync"),
    path("<id:account_id>/edit/", views.account_edit, name="edit"),
    path("<id:account_id>/delete/", views.account_delete, name="delete"),
    path("aws/msp/<id:account_id>/accounts/", member_views.members, name="members"),
    path("<id:account_id>/onboard/", member_views.onboard, name="onboard"),
    path("<id:account_id>/remove-role/", member_views.remove_role, name="remove_role"),
    path("link/", member_views.link, name="link"),
    path("link/create-customer/", member_views.link_create_customer, name="link_create_customer"),
    path("link/customers/", member_views.link_customers, name="link_customers"),
    path("unlink/", member_views.unlink, name="unlink"),
    path("bulk/onboard/", bulk_views.bulk_onboard, name="bulk_onboard"),
    path("bulk/validate/", bulk_views.bulk_validate, name="bulk_validate"),
    path("jobs/", job_views.job_list_page, name="jobs"),
    path("jobs/<id:job_id>/retry/", bulk_views.job_retry, name="job_retry"),
    path("jobs/<id:job_id>/", views.job_status, name="job"),
    path("health/", health_views.health_page, name="health"),
    path("<id:account_id>/health/", health_views.account_health, name="account_health"),
    path("schedule/", health_views.schedule_settings, name="schedule"),
    *rule_views.rule_pages.urls(),
    path("rules/preview/", rule_views.rule_preview, name="rule_preview"),
    path("rules/<id:rule_id>/preview/", rule_views.rule_preview, name="rule_preview_saved"),
    path("rules/<id:rule_id>/apply/", rule_views.rule_apply, name="rule_apply"),
    path("import/", import_views.import_assignments, name="import"),
]
