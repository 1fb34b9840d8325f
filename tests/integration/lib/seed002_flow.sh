#!/bin/bash
# Seed 002 ("Getting Started with AWS IoT Device Defender Using the AWS CLI"), Steps 1-7
# and "Cleaning Up Resources": every ```bash block of the seed from "## Step 1" to
# "## Troubleshooting", in order, copied unchanged (generated from
# shared/seeds/002_0a140f400f3fe2c6.txt). Nothing is changed for CLI v2 either: the test
# (60-seed002.py) puts an `aws` wrapper first on PATH that runs CLI v1 (which honours
# AWS_ENDPOINT_URL) or Debian's CLI v2 2.9 with --endpoint-url "$AWS_ENDPOINT_URL" (v2.9
# predates AWS_ENDPOINT_URL). The blocks are separated by one "# ---- block N" line.

# ---- block 1
# Create IoT Device Defender Audit role
aws iam create-role \
  --role-name AWSIoTDeviceDefenderAuditRole \
  --assume-role-policy-document '{
    "Version": "2012-10-17",
    "Statement": [
      {
        "Effect": "Allow",
        "Principal": {
          "Service": "iot.amazonaws.com"
        },
        "Action": "sts:AssumeRole"
      }
    ]
  }'

# Attach the AWSIoTDeviceDefenderAudit policy to the role
aws iam attach-role-policy \
  --role-name AWSIoTDeviceDefenderAuditRole \
  --policy-arn arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit

# Store the role ARN for later use
AUDIT_ROLE_ARN=$(aws iam get-role --role-name AWSIoTDeviceDefenderAuditRole --query 'Role.Arn' --output text)
echo "Audit Role ARN: $AUDIT_ROLE_ARN"

# Create IoT Logging role
aws iam create-role \
  --role-name AWSIoTLoggingRole \
  --assume-role-policy-document '{
    "Version": "2012-10-17",
    "Statement": [
      {
        "Effect": "Allow",
        "Principal": {
          "Service": "iot.amazonaws.com"
        },
        "Action": "sts:AssumeRole"
      }
    ]
  }'

# Create an inline policy for the logging role
aws iam put-role-policy \
  --role-name AWSIoTLoggingRole \
  --policy-name AWSIoTLoggingRolePolicy \
  --policy-document '{
    "Version": "2012-10-17",
    "Statement": [
      {
        "Effect": "Allow",
        "Action": [
          "logs:CreateLogGroup",
          "logs:CreateLogStream",
          "logs:PutLogEvents",
          "logs:PutMetricFilter",
          "logs:PutRetentionPolicy",
          "logs:GetLogEvents",
          "logs:DescribeLogStreams"
        ],
        "Resource": [
          "arn:aws:logs:*:*:*"
        ]
      }
    ]
  }'

# Store the logging role ARN for later use
LOGGING_ROLE_ARN=$(aws iam get-role --role-name AWSIoTLoggingRole --query 'Role.Arn' --output text)
echo "Logging Role ARN: $LOGGING_ROLE_ARN"

# Create IoT Mitigation Action role
aws iam create-role \
  --role-name IoTMitigationActionErrorLoggingRole \
  --assume-role-policy-document '{
    "Version": "2012-10-17",
    "Statement": [
      {
        "Effect": "Allow",
        "Principal": {
          "Service": "iot.amazonaws.com"
        },
        "Action": "sts:AssumeRole"
      }
    ]
  }'

# Create an inline policy for the mitigation action role
aws iam put-role-policy \
  --role-name IoTMitigationActionErrorLoggingRole \
  --policy-name IoTMitigationActionErrorLoggingRolePolicy \
  --policy-document '{
    "Version": "2012-10-17",
    "Statement": [
      {
        "Effect": "Allow",
        "Action": [
          "iot:UpdateCACertificate",
          "iot:UpdateCertificate",
          "iot:SetV2LoggingOptions",
          "iot:SetLoggingOptions",
          "iot:AddThingToThingGroup",
          "iot:PublishToTopic",
          "iam:PassRole"
        ],
        "Resource": "*"
      }
    ]
  }'

# Store the mitigation role ARN for later use
MITIGATION_ROLE_ARN=$(aws iam get-role --role-name IoTMitigationActionErrorLoggingRole --query 'Role.Arn' --output text)
echo "Mitigation Role ARN: $MITIGATION_ROLE_ARN"

# ---- block 2
# Get the current audit configuration
aws iot describe-account-audit-configuration

# Enable the LOGGING_DISABLED_CHECK audit check
aws iot update-account-audit-configuration \
  --role-arn "$AUDIT_ROLE_ARN" \
  --audit-check-configurations '{"LOGGING_DISABLED_CHECK":{"enabled":true}}'

# Verify the updated configuration
aws iot describe-account-audit-configuration

# ---- block 3
# Start an on-demand audit task
AUDIT_TASK_RESULT=$(aws iot start-on-demand-audit-task \
  --target-check-names LOGGING_DISABLED_CHECK)

# Extract the task ID
TASK_ID=$(echo "$AUDIT_TASK_RESULT" | grep -o '"taskId": "[^"]*' | cut -d'"' -f4)
echo "Audit task started with ID: $TASK_ID"

# Wait for the audit task to complete
echo "Waiting for audit task to complete (this may take a few minutes)..."
TASK_STATUS="IN_PROGRESS"
while [ "$TASK_STATUS" != "COMPLETED" ]; do
  sleep 10
  TASK_DETAILS=$(aws iot describe-audit-task --task-id "$TASK_ID")
  TASK_STATUS=$(echo "$TASK_DETAILS" | grep -o '"taskStatus": "[^"]*' | cut -d'"' -f4)
  echo "Current task status: $TASK_STATUS"
  
  # Exit the loop if the task fails
  if [ "$TASK_STATUS" == "FAILED" ]; then
    echo "Audit task failed"
    exit 1
  fi
done

echo "Audit task completed successfully"

# Get audit findings
FINDINGS=$(aws iot list-audit-findings --task-id "$TASK_ID")
echo "Audit findings:"
echo "$FINDINGS"

# Check if we have any non-compliant findings
if echo "$FINDINGS" | grep -q '"findingId"'; then
  FINDING_ID=$(echo "$FINDINGS" | grep -o '"findingId": "[^"]*' | head -1 | cut -d'"' -f4)
  echo "Found non-compliant finding with ID: $FINDING_ID"
  HAS_FINDINGS=true
else
  echo "No non-compliant findings detected"
  HAS_FINDINGS=false
fi

# ---- block 4
# Check if mitigation action already exists
MITIGATION_EXISTS=$(aws iot list-mitigation-actions --action-name "EnableErrorLoggingAction" 2>&1)
if echo "$MITIGATION_EXISTS" | grep -q "EnableErrorLoggingAction"; then
  echo "Mitigation action 'EnableErrorLoggingAction' already exists, deleting it first..."
  aws iot delete-mitigation-action --action-name "EnableErrorLoggingAction"
  # Wait a moment for deletion to complete
  sleep 5
fi

# Create a mitigation action to enable AWS IoT logging
aws iot create-mitigation-action \
  --action-name "EnableErrorLoggingAction" \
  --role-arn "$MITIGATION_ROLE_ARN" \
  --action-params "{\"enableIoTLoggingParams\":{\"roleArnForLogging\":\"$LOGGING_ROLE_ARN\",\"logLevel\":\"ERROR\"}}"

# Verify the mitigation action was created
aws iot describe-mitigation-action --action-name "EnableErrorLoggingAction"

# ---- block 5
# Apply the mitigation action to the finding if any were found
if [ "$HAS_FINDINGS" = true ]; then
  MITIGATION_TASK_ID="MitigationTask-$(date +%s)"
  echo "Starting mitigation actions task with ID: $MITIGATION_TASK_ID"
  
  aws iot start-audit-mitigation-actions-task \
    --task-id "$MITIGATION_TASK_ID" \
    --target "{\"findingIds\":[\"$FINDING_ID\"]}" \
    --audit-check-to-actions-mapping "{\"LOGGING_DISABLED_CHECK\":[\"EnableErrorLoggingAction\"]}"
    
  echo "Mitigation actions task started successfully"
  
  # Wait for the mitigation task to complete
  echo "Waiting for mitigation task to complete..."
  sleep 10
  
  # List mitigation tasks
  MITIGATION_TASKS=$(aws iot list-audit-mitigation-actions-tasks \
    --start-time "$(date -d 'today' '+%Y-%m-%d')" \
    --end-time "$(date -d 'tomorrow' '+%Y-%m-%d')")
  
  echo "Mitigation tasks:"
  echo "$MITIGATION_TASKS"
else
  echo "No findings to mitigate"
fi

# ---- block 6
# Check if SNS topic already exists
SNS_TOPICS=$(aws sns list-topics)
if echo "$SNS_TOPICS" | grep -q "IoTDDNotifications"; then
  echo "SNS topic 'IoTDDNotifications' already exists, using existing topic..."
  TOPIC_ARN=$(echo "$SNS_TOPICS" | grep -o '"TopicArn": "[^"]*IoTDDNotifications' | cut -d'"' -f4)
else
  echo "Creating SNS topic for notifications..."
  SNS_RESULT=$(aws sns create-topic --name "IoTDDNotifications")
  TOPIC_ARN=$(echo "$SNS_RESULT" | grep -o '"TopicArn": "[^"]*' | cut -d'"' -f4)
  echo "SNS topic created with ARN: $TOPIC_ARN"
fi

# Update the audit configuration to enable SNS notifications
aws iot update-account-audit-configuration \
  --audit-notification-target-configurations "{\"SNS\":{\"targetArn\":\"$TOPIC_ARN\",\"roleArn\":\"$AUDIT_ROLE_ARN\",\"enabled\":true}}"

# Verify the notification configuration
aws iot describe-account-audit-configuration

# ---- block 7
# Subscribe an email address to the SNS topic (replace with your email)
aws sns subscribe \
  --topic-arn "$TOPIC_ARN" \
  --protocol email \
  --notification-endpoint "your-email@example.com"

echo "Check your email to confirm the subscription"

# ---- block 8
# Enable AWS IoT logging using v2 API (preferred)
echo "Setting up AWS IoT logging options..."

LOGGING_RESULT=$(aws iot set-v2-logging-options \
  --role-arn "$LOGGING_ROLE_ARN" \
  --default-log-level "ERROR" 2>&1)

# Check if v2 logging succeeded
if echo "$LOGGING_RESULT" | grep -q "error\|Error\|ERROR"; then
    echo "Failed to set up AWS IoT v2 logging, trying v1 logging..."
    
    # Create the logging options payload for v1 API
    LOGGING_OPTIONS_PAYLOAD="{\"roleArn\":\"$LOGGING_ROLE_ARN\",\"logLevel\":\"ERROR\"}"
    
    # Try the older set-logging-options command with proper payload format
    LOGGING_RESULT_V1=$(aws iot set-logging-options \
      --logging-options-payload "$LOGGING_OPTIONS_PAYLOAD" 2>&1)
    
    if echo "$LOGGING_RESULT_V1" | grep -q "error\|Error\|ERROR"; then
        echo "Failed to set up AWS IoT logging with both v1 and v2 methods"
        echo "V2 result: $LOGGING_RESULT"
        echo "V1 result: $LOGGING_RESULT_V1"
        exit 1
    else
        echo "AWS IoT v1 logging enabled successfully"
    fi
else
    echo "AWS IoT v2 logging enabled successfully"
fi

# Verify logging configuration
LOGGING_CONFIG=$(aws iot get-logging-options 2>/dev/null || aws iot get-v2-logging-options 2>/dev/null)
echo "Logging configuration:"
echo "$LOGGING_CONFIG"

# ---- block 9
# Disable AWS IoT logging
echo "Disabling AWS IoT logging..."

# Try to disable v2 logging first
DISABLE_V2_RESULT=$(aws iot set-v2-logging-options \
  --default-log-level "DISABLED" 2>&1)

if echo "$DISABLE_V2_RESULT" | grep -q "error\|Error\|ERROR"; then
    echo "Failed to disable v2 logging, trying v1..."
    # Try v1 logging disable
    DISABLE_V1_RESULT=$(aws iot set-logging-options \
      --logging-options-payload "{\"logLevel\":\"DISABLED\"}" 2>&1)
    
    if echo "$DISABLE_V1_RESULT" | grep -q "error\|Error\|ERROR"; then
        echo "Warning: Could not disable logging through either v1 or v2 methods"
    else
        echo "V1 logging disabled successfully"
    fi
else
    echo "V2 logging disabled successfully"
fi

# Delete mitigation action
aws iot delete-mitigation-action --action-name "EnableErrorLoggingAction"

# Delete SNS topic
aws sns delete-topic --topic-arn "$TOPIC_ARN"

# Delete IAM roles and policies
# First, check if policies exist before trying to delete them
ROLE_POLICIES=$(aws iam list-role-policies --role-name "IoTMitigationActionErrorLoggingRole" 2>&1)
if ! echo "$ROLE_POLICIES" | grep -q "NoSuchEntity"; then
  if echo "$ROLE_POLICIES" | grep -q "IoTMitigationActionErrorLoggingRolePolicy"; then
    aws iam delete-role-policy \
      --role-name "IoTMitigationActionErrorLoggingRole" \
      --policy-name "IoTMitigationActionErrorLoggingRolePolicy"
  fi
fi
aws iam delete-role --role-name "IoTMitigationActionErrorLoggingRole"

ROLE_POLICIES=$(aws iam list-role-policies --role-name "AWSIoTLoggingRole" 2>&1)
if ! echo "$ROLE_POLICIES" | grep -q "NoSuchEntity"; then
  if echo "$ROLE_POLICIES" | grep -q "AWSIoTLoggingRolePolicy"; then
    aws iam delete-role-policy \
      --role-name "AWSIoTLoggingRole" \
      --policy-name "AWSIoTLoggingRolePolicy"
  fi
fi
aws iam delete-role --role-name "AWSIoTLoggingRole"

aws iam detach-role-policy \
  --role-name "AWSIoTDeviceDefenderAuditRole" \
  --policy-arn "arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit"
aws iam delete-role --role-name "AWSIoTDeviceDefenderAuditRole"

echo "Cleanup completed successfully"
