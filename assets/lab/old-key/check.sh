lab_check 202601
